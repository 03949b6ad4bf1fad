--[[
  retry: end this run of a task in RETRY and schedule the next one, in one step.

  KEYS[1] task     HASH
  KEYS[2] active   ZSET  id -> lease deadline ms
  KEYS[3] delayed  ZSET  id -> due ms
  KEYS[4] wait     LIST  ids ready to run
  KEYS[5] wake     LIST  marker that wakes one blocked worker
  ARGV[1] id
  ARGV[2] lease token
  ARGV[3] due (epoch ms)
  ARGV[4] now (epoch ms)
  ARGV[5] error JSON of the run that failed
  ARGV[6] event channel

  Returns the retry count after this one, or -1 when the caller no longer holds the lease.
]]
if redis.call('HGET', KEYS[1], 'tok') ~= ARGV[2] then
  return -1
end
redis.call('ZREM', KEYS[2], ARGV[1])
local retries = redis.call('HINCRBY', KEYS[1], 'rt', 1)
redis.call('HSET', KEYS[1], 'st', 'RETRY', 'err', ARGV[5], 'eta', ARGV[3])
redis.call('HDEL', KEYS[1], 'tok', 'prog')
local due = tonumber(ARGV[3])
if due > tonumber(ARGV[4]) then
  redis.call('ZADD', KEYS[3], due, ARGV[1])
  local first = redis.call('ZRANGE', KEYS[3], 0, 0)
  if first[1] == ARGV[1] then wakeOne(KEYS[5]) end
else
  pushReady(KEYS[4], KEYS[1], ARGV[1], false)
  wakeOne(KEYS[5])
end
redis.call('PUBLISH', ARGV[6], 'RETRY')
return retries

--[[
  dead-letter: move a message that cannot run (malformed, unknown task) aside with its reason,
  and end its task in FAILURE so that anyone waiting on it learns why.

  KEYS[1] task        HASH
  KEYS[2] active      ZSET  id -> lease deadline ms
  KEYS[3] dead        HASH  id -> entry JSON
  KEYS[4] dead index  ZSET  id -> epoch ms
  KEYS[5] messages    HASH  id -> envelope JSON (the entry keeps its own copy)
  ARGV[1] id
  ARGV[2] entry JSON (original message, reason, time, worker)
  ARGV[3] error JSON for the task's FAILURE
  ARGV[4] now (epoch ms)
  ARGV[5] result ttl in seconds (0 = keep)
  ARGV[6] event channel
]]
redis.call('ZREM', KEYS[2], ARGV[1])
keepNameAndCreated(KEYS[1], redis.call('HGET', KEYS[5], ARGV[1]))
redis.call('HDEL', KEYS[5], ARGV[1])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[1])
redis.call('HSET', KEYS[1], 'st', 'FAILURE', 'err', ARGV[3], 'dt', ARGV[4])
redis.call('HDEL', KEYS[1], 'tok')
local ttl = tonumber(ARGV[5])
if ttl > 0 then redis.call('EXPIRE', KEYS[1], ttl) end
redis.call('PUBLISH', ARGV[6], 'FAILURE\n' .. ARGV[3])
return 1

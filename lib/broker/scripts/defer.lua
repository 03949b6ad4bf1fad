--[[
  defer: give a leased task back until a later time without counting it as a run, holding a
  reservation for that time (a rate-limit slot): when it is fetched again it runs at once.

  KEYS[1] task     HASH
  KEYS[2] active   ZSET  id -> lease deadline ms
  KEYS[3] delayed  ZSET  id -> due ms
  KEYS[4] wake     LIST  marker that wakes one blocked worker
  ARGV[1] id
  ARGV[2] lease token
  ARGV[3] due (epoch ms), also the reservation
  ARGV[4] event channel

  Returns 0 when the caller no longer holds the lease.
]]
if redis.call('HGET', KEYS[1], 'tok') ~= ARGV[2] then
  return 0
end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HINCRBY', KEYS[1], 'dlv', -1)
redis.call('HSET', KEYS[1], 'st', 'PENDING', 'rsv', ARGV[3])
redis.call('HDEL', KEYS[1], 'tok')
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
local first = redis.call('ZRANGE', KEYS[3], 0, 0)
if first[1] == ARGV[1] then wakeOne(KEYS[4]) end
redis.call('PUBLISH', ARGV[4], 'PENDING')
return 1

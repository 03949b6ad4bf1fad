--[[
  release: give a leased task back to its queue at once (graceful shutdown), so it does not
  wait for its lease to run out.

  KEYS[1] task     HASH
  KEYS[2] active   ZSET  id -> lease deadline ms
  KEYS[3] wait     LIST  ids ready to run
  KEYS[4] wake     LIST  marker that wakes one blocked worker
  ARGV[1] id
  ARGV[2] lease token
  ARGV[3] event channel

  Returns 0 when the caller no longer holds the lease (nothing to give back).
]]
if redis.call('HGET', KEYS[1], 'tok') ~= ARGV[2] then
  return 0
end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[1], 'st', 'PENDING')
redis.call('HDEL', KEYS[1], 'tok', 'prog')
pushReady(KEYS[3], KEYS[1], ARGV[1], true)
wakeOne(KEYS[4])
redis.call('PUBLISH', ARGV[3], 'PENDING')
return 1

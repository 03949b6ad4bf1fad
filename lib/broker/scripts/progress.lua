--[[
  progress: store a running task's progress meta (state PROGRESS) and announce it.

  KEYS[1] task     HASH
  ARGV[1] lease token
  ARGV[2] progress meta JSON
  ARGV[3] event channel

  Returns 0 when the caller no longer holds the lease.
]]
if redis.call('HGET', KEYS[1], 'tok') ~= ARGV[1] then
  return 0
end
redis.call('HSET', KEYS[1], 'st', 'PROGRESS', 'prog', ARGV[2])
redis.call('PUBLISH', ARGV[3], 'PROGRESS\n' .. ARGV[2])
return 1

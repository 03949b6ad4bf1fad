--[[
  complete: record a task's final outcome and end its lease, in one step.

  KEYS[1] task     HASH
  KEYS[2] active   ZSET  id -> lease deadline ms
  ARGV[1] id
  ARGV[2] lease token the worker got at fetch
  ARGV[3] final state (SUCCESS | FAILURE | REVOKED)
  ARGV[4] field for the payload (res | err)
  ARGV[5] payload JSON
  ARGV[6] now (epoch ms)
  ARGV[7] result ttl in seconds (0 = keep)
  ARGV[8] event channel
  ARGV[9] '1' to drop the task's hash on SUCCESS (the task ignores its result)

  A worker whose lease was taken over (its token no longer matches) cannot commit: returns 0.
  Returns 2 when this very outcome is already recorded (a command resent after a reconnect).
]]
local fields = redis.call('HMGET', KEYS[1], 'tok', 'st')
if fields[1] ~= ARGV[2] then
  if not fields[1] and fields[2] == ARGV[3] then return 2 end
  return 0
end
redis.call('ZREM', KEYS[2], ARGV[1])
if ARGV[9] == '1' and ARGV[3] == 'SUCCESS' then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[8], ARGV[3])
  return 1
end
redis.call('HSET', KEYS[1], 'st', ARGV[3], ARGV[4], ARGV[5], 'dt', ARGV[6])
redis.call('HDEL', KEYS[1], 'tok')
local ttl = tonumber(ARGV[7])
if ttl > 0 then redis.call('EXPIRE', KEYS[1], ttl) end
-- The outcome rides with the event, so a waiter needs no second read.
redis.call('PUBLISH', ARGV[8], ARGV[3] .. '\n' .. ARGV[5])
return 1

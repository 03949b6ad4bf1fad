--[[
  read-task: a task's hash fields and its message, in one step (a worker's commit drops the
  message as it writes the hash, so two separate reads could see neither).

  KEYS[1] task      HASH
  KEYS[2] messages  HASH  id -> envelope JSON
  ARGV[1] id
  ARGV[2..] the hash fields to read

  Returns the values of the fields (false where missing), the message (false when none), then 1
  when the task has a hash, else 0.
]]
local out = #ARGV > 1 and redis.call('HMGET', KEYS[1], unpack(ARGV, 2)) or {}
out[#out + 1] = redis.call('HGET', KEYS[2], ARGV[1])
out[#out + 1] = redis.call('EXISTS', KEYS[1])
return out

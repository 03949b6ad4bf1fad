--[[
  complete: record the final outcomes of one or more tasks of a queue and end their leases, in
  one step (a worker commits everything that finished in one turn of its event loop at once).

  KEYS[1] active    ZSET  id -> lease deadline ms
  KEYS[2] messages  HASH  id -> envelope JSON
  ARGV[1] task key prefix
  ARGV[2] event channel prefix
  ARGV[3] now (epoch ms)
  ARGV[4] result ttl in seconds (0 = keep)
  ARGV[5..] groups of 6: id, lease token from the fetch, final state (SUCCESS | FAILURE |
            REVOKED), payload JSON (the result, or the error), '1' to drop the task's hash on
            SUCCESS (the task ignores its result), the sender's reply channel ('' for none)

  Per task returns 1 committed, 0 not: a worker whose lease was taken over (its token no longer
  matches) cannot commit; 2 when this very outcome is already recorded (a command resent after
  a reconnect).
]]
-- Both go into commands as given: a Lua number passed to redis.call is formatted again each time.
local now, ttl, keep = ARGV[3], ARGV[4], ARGV[4] == '0'
local out, done = {}, {}
for i = 5, #ARGV, 6 do
  local id, token, state, payload, ignore, reply = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5]
  local key = ARGV[1] .. id
  local fields = redis.call('HMGET', key, 'tok', 'st')
  if fields[1] ~= token then
    out[#out + 1] = (not fields[1] and fields[2] == state) and 2 or 0
  else
    done[#done + 1] = id
    -- A failed task keeps its message in its own hash (it expires with it), for inspection; a
    -- successful one drops it, so its hash stays small.
    if state == 'FAILURE' then
      local env = redis.call('HGET', KEYS[2], id)
      if env then redis.call('HSET', key, 'env', env) end
    end
    local channel = ARGV[2] .. id
    local event
    if ignore == '1' and state == 'SUCCESS' then
      redis.call('DEL', key)
      event = state
    else
      redis.call('HSET', key, 'st', state, state == 'SUCCESS' and 'res' or 'err', payload, 'dt', now)
      redis.call('HDEL', key, 'tok')
      if not keep then redis.call('EXPIRE', key, ttl) end
      -- The outcome rides with the event, so a waiter needs no second read.
      event = state .. '\n' .. payload
    end
    redis.call('PUBLISH', channel, event)
    -- The sender waits in its reply inbox: the same event goes there, with the task's id.
    if reply ~= '' then redis.call('PUBLISH', reply, id .. '\n' .. event) end
    out[#out + 1] = 1
  end
end
-- The messages are done with (a failed task keeps a copy, above); one command each for all.
callInSlices('ZREM', KEYS[1], done)
callInSlices('HDEL', KEYS[2], done)
return out

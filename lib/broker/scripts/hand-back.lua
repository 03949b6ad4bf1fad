--[[
  hand-back: give tasks handed to an idle worker (see enqueue.lua) back to the head of their queue,
  as they were before: a worker that stops, or that got a hand-off too late to trust its lease.

  KEYS[1] idle     ZSET  '<lease ms> <worker id>' -> registered until (ms)
  KEYS[2] active   ZSET  id -> lease deadline ms
  KEYS[3] wait     LIST  ids ready to run (priority 0; see _prelude.lua for the others)
  KEYS[4] wake     LIST  marker that wakes one blocked worker
  ARGV[1] the worker's registration to remove ('' to keep it)
  ARGV[2] worker id
  ARGV[3] task key prefix
  ARGV[4] event channel prefix
  ARGV[5..] ids the worker took from its hand-off list itself

  Also empties the worker's hand-off list ('<idle>:<worker id>'). A task goes back only while it
  is still this worker's first delivery (its lease was not taken back meanwhile); the fields the
  hand-off wrote are removed, so a plain task is its message alone again and its delivery does not
  count. Returns how many went back.
]]
local ids = {}
for i = 5, #ARGV do ids[#ids + 1] = ARGV[i] end
if ARGV[1] ~= '' then redis.call('ZREM', KEYS[1], ARGV[1]) end
local handed = redis.call('LPOP', KEYS[1] .. ':' .. ARGV[2], 100)
for _, entry in ipairs(handed or {}) do ids[#ids + 1] = handedId(entry) end

local token = ARGV[2] .. ':1'
local back = 0
for _, id in ipairs(ids) do
  local key = ARGV[3] .. id
  if stillHanded(key, KEYS[2], id, token) then
    redis.call('ZREM', KEYS[2], id)
    -- A revocation recorded meanwhile stays (the next fetch ends the task REVOKED).
    redis.call('HDEL', key, 'st', 'stt', 'tok', 'dlv', 'prog')
    pushReady(KEYS[3], key, id, true)
    redis.call('PUBLISH', ARGV[4] .. id, 'PENDING')
    back = back + 1
  end
end
if back > 0 then wakeOne(KEYS[4]) end
return back

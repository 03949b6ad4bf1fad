--[[
  enqueue: add one or more tasks to a queue, ready now or delayed.

  KEYS[1] wait     LIST  ids ready to run (priority 0; see _prelude.lua for the others)
  KEYS[2] delayed  ZSET  id -> due ms
  KEYS[3] wake     LIST  marker that wakes one blocked worker
  KEYS[4] messages HASH  id -> envelope JSON
  KEYS[5] idle     ZSET  '<lease ms> <worker id>' -> registered until (ms): workers blocked
                         waiting for this queue, each taking one task handed to it
                         (list '<idle>:<worker id>'); see fetch.lua
  KEYS[6] active   ZSET  id -> lease deadline ms
  KEYS[7] paused   STRING present while the queue is paused
  KEYS[8] watched  STRING present while some process follows the queue's task events
  ARGV[1] task key prefix (the id follows)
  ARGV[2] now (epoch ms)
  ARGV[3] event channel prefix (the id follows)
  ARGV[4..] per task: id, envelope JSON, then '0' for a plain task (ready now, no expiry,
            priority 0, an id generated for this send), or '1' followed by due ms (0 = now),
            expires ms (0 = never), priority (0-9), and '1' when the id was generated for this send
            (no task can have it: not looked up), else '0'

  A task waiting to run is its message alone: its hash is written when a worker takes it (or
  when it carries an expiry or a priority, which the paths back to the queue read from there).
  Name and creation time are in the message. A task id that already exists is left as it is
  (a repeated taskId never enqueues twice).
  A plain task sent while a worker waits idle for this queue (and nothing else is ready) is handed
  to that worker instead: leased to it and marked STARTED here, as its fetch would, and pushed to
  the list its BLPOP waits on, which saves the round trip of a fetch. Its message stays in the
  messages hash, so a hand-off to a worker that died is taken back like any lease that runs out.
  Returns one integer per task: 1 enqueued, 0 already existed.
]]
local now = tonumber(ARGV[2])
local out = {}
local wake = false
-- Ready tasks of priority 0 and their bodies are written with one command each for the whole
-- batch: a plain task costs Redis nothing else.
local ready, bodies = {}, {}
-- Chosen ids sent in this batch: their bodies are written at the end, so a repeat within the
-- batch is caught here.
local chosen = {}
-- Hand-offs stop at the first task that goes to a wait list, so none overtakes a task that waits.
local handing = true
local leased = {}
local function idleWorker()
  if not handing then return nil end
  local w = redis.call('ZRANGE', KEYS[5], -1, -1, 'WITHSCORES')
  if not w[1] then handing = false return nil end
  -- The latest registration is out of date: so are all the others (workers that stopped).
  if tonumber(w[2]) < now then redis.call('DEL', KEYS[5]) handing = false return nil end
  if #leased == 0 and not nothingWaits(KEYS[1], KEYS[7]) then
    handing = false
    return nil
  end
  redis.call('ZREM', KEYS[5], w[1])
  return w[1]
end
local watched
local i = 4
while i <= #ARGV do
  local id, env = ARGV[i], ARGV[i + 1]
  if ARGV[i + 2] == '0' then
    i = i + 3
    bodies[#bodies + 1] = id
    bodies[#bodies + 1] = env
    local worker = idleWorker()
    if worker then
      -- As fetch.lua leases a plain task on its first delivery.
      local space = string.find(worker, ' ', 1, true)
      local leaseMs, workerId = string.sub(worker, 1, space - 1), string.sub(worker, space + 1)
      redis.call('HSET', ARGV[1] .. id, 'st', 'STARTED', 'stt', ARGV[2], 'tok', workerId .. ':1', 'dlv', '1')
      leased[#leased + 1] = now + tonumber(leaseMs)
      leased[#leased + 1] = id
      local list = KEYS[5] .. ':' .. workerId
      redis.call('RPUSH', list, id .. '\n' .. ARGV[2] .. '\n' .. env)
      -- Left behind only by a worker that died: useless once the lease has run out.
      redis.call('PEXPIRE', list, leaseMs)
      if watched == nil then watched = isWatched(KEYS[8]) end
      if watched then redis.call('PUBLISH', ARGV[3] .. id, 'STARTED') end
    else
      handing = false
      ready[#ready + 1] = id
    end
    out[#out + 1] = 1
  else
    handing = false
    local due, expires, level, generated = tonumber(ARGV[i + 3]), ARGV[i + 4], ARGV[i + 5], ARGV[i + 6]
    i = i + 7
    local key = ARGV[1] .. id
    if generated == '0' and (chosen[id] or redis.call('EXISTS', key) == 1 or redis.call('HEXISTS', KEYS[4], id) == 1) then
      out[#out + 1] = 0
    else
      if generated == '0' then chosen[id] = true end
      bodies[#bodies + 1] = id
      bodies[#bodies + 1] = env
      if expires ~= '0' then redis.call('HSET', key, 'exp', expires) end
      if level ~= '0' then redis.call('HSET', key, 'pr', level) end
      if due > now then
        redis.call('ZADD', KEYS[2], due, id)
        -- A new earliest due time: wake a worker so it shortens its blocking wait.
        local first = redis.call('ZRANGE', KEYS[2], 0, 0)
        if first[1] == id then wake = true end
      elseif level == '0' then
        ready[#ready + 1] = id
      else
        -- The level is known here: no need to read it back as pushReady does.
        redis.call('SADD', KEYS[1] .. ':levels', level)
        redis.call('RPUSH', waitListOf(KEYS[1], level), id)
        wake = true
      end
      out[#out + 1] = 1
    end
  end
end
callInSlices('HSET', KEYS[4], bodies)
if #leased > 0 then
  -- The lease index's member that is not a task: see fetch.lua.
  leased[#leased + 1] = '+inf'
  leased[#leased + 1] = LEASE_INDEX_KEEPER
  callInSlices('ZADD', KEYS[6], leased)
end
callInSlices('RPUSH', KEYS[1], ready)
if #ready > 0 then wake = true end
if wake then wakeOne(KEYS[3]) end
return out

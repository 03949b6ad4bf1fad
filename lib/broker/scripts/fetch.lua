--[[
  fetch: lease up to N ready tasks to one worker and mark them STARTED.

  KEYS[1] wait        LIST  ids ready to run (priority 0; see _prelude.lua for the others)
  KEYS[2] active      ZSET  id -> lease deadline ms
  KEYS[3] delayed     ZSET  id -> due ms
  KEYS[4] wake        LIST  marker that wakes one blocked worker
  KEYS[5] dead        HASH  id -> dead-letter entry JSON
  KEYS[6] dead index  ZSET  id -> epoch ms
  KEYS[7] paused      STRING present while the queue is paused
  KEYS[8] messages    HASH  id -> envelope JSON
  KEYS[9] watched     STRING present while some process follows the queue's task events
                             (STARTED and outcomes are published only then; see isWatched)
  KEYS[10] idle       ZSET  '<lease ms> <worker id>' -> registered until (ms): workers waiting
                             idle, to which an enqueue hands a task (see enqueue.lua)
  ARGV[1] task key prefix
  ARGV[2] event channel prefix
  ARGV[3] now (epoch ms)
  ARGV[4] lease deadline (epoch ms)
  ARGV[5] max tasks to take
  ARGV[6] worker id
  ARGV[7] max deliveries of one message
  ARGV[8] queue name
  ARGV[9] result ttl in seconds (0 = keep)
  ARGV[10] '1' to sweep first, '0' not to
  ARGV[11] '0' for a worker that takes no hand-offs; else until when (epoch ms) its registration
           as idle holds, if this fetch leaves it room and finds the queue empty (it waits next)
  ARGV[12..] outcomes of this worker's tasks to commit first, groups of 8 (see commitOutcomes in
            _prelude.lua): a worker sends what finished with its next fetch, one call for both,
            and Redis records them before it hands out more

  A sweep moves due delayed tasks to their wait list, and puts tasks whose lease ran out (their
  worker stopped renewing it: it died) back at the head of theirs. Workers ask for one only
  every few ms (see Worker), not on every fetch of a busy queue; a fetch that finds nothing
  ready sweeps anyway before it gives up.
  Higher priority levels are taken first; within a level, oldest first. A worker that takes
  hand-offs first gets what was handed to it since it last looked (still leased to it: not taken
  back by a sweep in the meantime); then it is registered as idle when it will wait next, and
  unregistered otherwise, so that a registration stands only for a worker that waits with room.
  A task that is already final (a redelivery after its result was written) is dropped without
  being handed out again; one that was revoked while its worker died, or that expired before it
  started, ends REVOKED; a message handed out more than max deliveries times (a poison message
  that kills its workers) is dead-lettered.

  Returns { next due ms or -1, drained (1 when no ready task is left: the worker waits for news of
  more before it fetches again; the next due time is given only then), the number of outcomes
  committed, then per outcome its reply (see commitOutcomes), then per task: id, envelope ('' when
  the task hash is missing), and its counts: the delivery count (an integer) when the task has no
  retries and no rate-limit reservation, else the text '<deliveries> <retries> <reservation ms>' }.
  A task's lease token is '<worker id>:<delivery count>': the worker makes it from these.
]]
local now = tonumber(ARGV[3])
-- Written into hashes as given: a Lua number passed to redis.call is formatted again each time.
local nowText = ARGV[3]
local prefix = ARGV[1]

-- Returns whether it made any task ready.
local function sweep()
  local due = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, 1000)
  if #due > 0 then
    redis.call('ZREM', KEYS[3], unpack(due))
    for _, id in ipairs(due) do pushReady(KEYS[1], prefix .. id, id, false) end
  end

  local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 1000)
  if #expired > 0 then
    redis.call('ZREM', KEYS[2], unpack(expired))
    for _, id in ipairs(expired) do pushReady(KEYS[1], prefix .. id, id, true) end
  end
  return #due + #expired > 0
end

-- Looked up once, and only by a fetch that commits or starts tasks.
local watched
local function watchedNow()
  if watched == nil then watched = isWatched(KEYS[9]) end
  return watched
end

local out = { -1, 1 }
local committed = {}
if #ARGV >= 12 then committed = commitOutcomes(KEYS[2], KEYS[8], prefix, ARGV[2], nowText, ARGV[9], 12, watchedNow()) end
out[3] = #committed
for _, reply in ipairs(committed) do out[#out + 1] = reply end

-- The first delivery's lease token, made once for the whole batch (see below).
local firstToken = ARGV[6] .. ':1'
-- Leases of this fetch (deadline, id pairs), written with one ZADD at the end, after the
-- member that keeps the index a skiplist (see LEASE_INDEX_KEEPER).
local leased = { '+inf', LEASE_INDEX_KEEPER }
local asked = tonumber(ARGV[5])
local want = asked

-- Tasks handed to this worker (see enqueue.lua and handedId). One at most in practice: a
-- registration takes one task, and a worker registers again only after it has looked here.
local idleUntil = ARGV[11]
local member
if idleUntil ~= '0' then
  member = string.format('%d', tonumber(ARGV[4]) - now) .. ' ' .. ARGV[6]
  local handed = redis.call('LPOP', KEYS[10] .. ':' .. ARGV[6], 100)
  for _, entry in ipairs(handed or {}) do
    local id = handedId(entry)
    if stillHanded(prefix .. id, KEYS[2], id, firstToken) then
      leased[#leased + 1] = ARGV[4]
      leased[#leased + 1] = id
      local n = #out
      out[n + 1], out[n + 2], out[n + 3] = id, string.sub(entry, string.find(entry, '\n', #id + 2, true) + 1), 1
      want = want - 1
    end
  end
end

local swept = ARGV[10] == '1'
if swept then sweep() end

local paused = false
-- Every way out: leases written; the earliest due time (it matters only to a worker that waits
-- next: it sets a timer for it); the worker registered as idle, or not.
local function withNextDue()
  if #leased > 2 then callInSlices('ZADD', KEYS[2], leased) end
  if out[2] == 1 then
    local first = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
    if first[2] then out[1] = tonumber(first[2]) end
  end
  if member then
    if out[2] == 1 and not paused and (#out - 3 - #committed) / 3 < asked then
      redis.call('ZADD', KEYS[10], idleUntil, member)
    else
      redis.call('ZREM', KEYS[10], member)
    end
  end
  return out
end

-- Filled by hand-offs: whether more is ready is not known, so the worker asks again.
if want <= 0 then
  out[2] = 0
  return withNextDue()
end

if redis.call('EXISTS', KEYS[7]) == 1 then
  paused = true
  return withNextDue()
end

-- Take from the highest level down.
local ids = {}
-- Whether ready tasks are left after this fetch (then another blocked worker is woken).
local more = false
local function take()
  local levels = redis.call('SMEMBERS', KEYS[1] .. ':levels')
  table.sort(levels, function(a, b) return tonumber(a) > tonumber(b) end)
  levels[#levels + 1] = '0'
  for _, level in ipairs(levels) do
    local list = waitListOf(KEYS[1], level)
    if #ids >= want then
      -- A level still in the set holds tasks; level 0 is looked at.
      more = level ~= '0' or redis.call('LLEN', list) > 0
      break
    end
    local taken = redis.call('LPOP', list, want - #ids)
    if taken then
      for _, id in ipairs(taken) do ids[#ids + 1] = id end
    end
    -- LPOP gave fewer than asked only when it emptied the list: count what is left otherwise.
    if level ~= '0' then
      if redis.call('LLEN', list) == 0 then redis.call('SREM', KEYS[1] .. ':levels', level) else more = true end
    elseif #ids >= want then
      more = redis.call('LLEN', list) > 0
    end
  end
end
take()
-- Nothing ready: sweep now if this fetch did not, so that due and abandoned tasks do not wait for
-- the next sweep of a busy worker (this worker blocks next).
if #ids == 0 and not swept and sweep() then take() end
if #ids == 0 then return withNextDue() end
if more then out[2] = 0 end

local maxDeliveries = tonumber(ARGV[7])

local function finish(id, key, state, err, env)
  keepNameAndCreated(key, env)
  redis.call('HDEL', KEYS[8], id)
  redis.call('HSET', key, 'st', state, 'dt', nowText, 'err', err)
  redis.call('HDEL', key, 'tok')
  if ARGV[9] ~= '0' then redis.call('EXPIRE', key, ARGV[9]) end
  redis.call('PUBLISH', ARGV[2] .. id, state .. '\n' .. err)
end

local function deadLetter(id, key, env, dlv)
  local detail = 'handed to a worker ' .. (dlv - 1) .. ' times without an outcome (its worker died each time?)'
  redis.call('HSET', KEYS[5], id, cjson.encode({
    id = id, queue = ARGV[8], reason = 'max-deliveries', detail = detail, message = env, at = now, worker = ARGV[6],
  }))
  redis.call('ZADD', KEYS[6], now, id)
  finish(id, key, 'FAILURE', cjson.encode({ name = 'MaxDeliveriesExceeded', message = 'Dead-lettered (max-deliveries): ' .. detail }), env)
end

-- The bodies of all of them, with one read per slice of ids.
local bodies = callInSlices('HMGET', KEYS[8], ids)

-- Both paths below mark a task STARTED in the same few lines, inline: a shared Lua function for
-- them cost Redis 1.4% more instructions per task (bench/redis-instructions.mjs).

local n = #out
for i, id in ipairs(ids) do
  local key = prefix .. id
  local env = bodies[i]
  if env and redis.call('EXISTS', key) == 0 then
    -- A plain task on its first delivery has no hash yet (see enqueue.lua): nothing to read and
    -- nothing to check, and its counts are known (maxDeliveries is at least 1).
    redis.call('HSET', key, 'st', 'STARTED', 'stt', nowText, 'tok', firstToken, 'dlv', '1')
    leased[#leased + 1] = ARGV[4]
    leased[#leased + 1] = id
    if watchedNow() then redis.call('PUBLISH', ARGV[2] .. id, 'STARTED') end
    out[n + 1], out[n + 2], out[n + 3] = id, env, 1
    n = n + 3
  else
    local f = redis.call('HMGET', key, 'st', 'rt', 'exp', 'rv', 'rsv', 'dlv')
    -- The body lives in the messages hash; 'env' in the task hash is where a hand-written one may be.
    env = env or redis.call('HGET', key, 'env')
    local st = f[1]
    if st == 'SUCCESS' or st == 'FAILURE' or st == 'REVOKED' then
      -- already final: nothing to run
    elseif not env then
      -- no message body at all: lease it anyway so the worker can dead-letter it
      leased[#leased + 1] = ARGV[4]
      leased[#leased + 1] = id
      out[n + 1], out[n + 2], out[n + 3] = id, '', 0
      n = n + 3
    elseif f[4] then
      finish(id, key, 'REVOKED', cjson.encode({ name = 'TaskRevokedError', message = f[4] }), env)
    elseif f[3] and tonumber(f[3]) < now then
      finish(id, key, 'REVOKED', cjson.encode({ name = 'TaskRevokedError', message = 'expired' }), env)
    else
      local dlv = tonumber(f[6] or '0') + 1
      -- Formatted once, for the hash and the token.
      local dlvText = tostring(dlv)
      if dlv > maxDeliveries then
        redis.call('HSET', key, 'dlv', dlvText)
        deadLetter(id, key, env, dlv)
      else
        redis.call('HSET', key, 'st', 'STARTED', 'stt', nowText, 'tok', ARGV[6] .. ':' .. dlvText, 'dlv', dlvText)
        leased[#leased + 1] = ARGV[4]
        leased[#leased + 1] = id
        if watchedNow() then redis.call('PUBLISH', ARGV[2] .. id, 'STARTED') end
        -- Retries and a rate-limit reservation, when there are any, ride in one text with the count.
        local counts = dlv
        if f[2] or f[5] then counts = dlvText .. ' ' .. (f[2] or '0') .. ' ' .. (f[5] or '0') end
        out[n + 1], out[n + 2], out[n + 3] = id, env, counts
        n = n + 3
      end
    end
  end
end
-- More work left: pass the wake-up on to another blocked worker.
if more then wakeOne(KEYS[4]) end
return withNextDue()

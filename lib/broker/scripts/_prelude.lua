--[[
  Shared helpers, prepended to every script when it is loaded (lua-script.ts).

  Ready tasks wait in one list per priority level: level 0 (no priority) in the queue's wait
  list itself, level N > 0 in '<wait>:p<N>'. The set '<wait>:levels' names the levels above 0
  that may hold tasks, so that a fetch looks only at lists that exist. A task's level is the
  'pr' field of its hash, so that every path back to the queue (retry, release, reclaim,
  delayed promotion, requeue) keeps it.
]]
local function waitListOf(waitKey, level)
  if level and level ~= '0' then return waitKey .. ':p' .. level end
  return waitKey
end

local function pushReady(waitKey, taskKey, id, atFront)
  local level = redis.call('HGET', taskKey, 'pr')
  local list = waitListOf(waitKey, level)
  if list ~= waitKey then redis.call('SADD', waitKey .. ':levels', level) end
  if atFront then redis.call('LPUSH', list, id) else redis.call('RPUSH', list, id) end
end

-- The first member of every lease index (active zset), with a score that never comes due: longer
-- than zset-max-listpack-value (64), it keeps the index a skiplist for good. Leases come and go
-- many at a time, and each one added to a small listpack zset scans all of it, which cost Redis
-- more than any other write of a task (measured).
local LEASE_INDEX_KEEPER = '(not a task: keeps this lease index a skiplist, so that adding and removing leases is cheap)'

--[[
  Hand-offs to idle workers (see enqueue.lua). An entry of a worker's hand-off list is
  '<id>\n<sent ms>\n<message>'. A handed task is still that worker's while its hash holds the
  worker's first-delivery token and its lease is in the index (a sweep that took it back removed it).
  A worker registers as idle, and a send hands over, only while the queue is not paused and
  nothing waits in it (a hand-off must not overtake a waiting task).
]]
local function handedId(entry)
  return string.sub(entry, 1, string.find(entry, '\n', 1, true) - 1)
end

local function stillHanded(taskKey, activeKey, id, token)
  return redis.call('HGET', taskKey, 'tok') == token and redis.call('ZSCORE', activeKey, id) ~= false
end

local function nothingWaits(waitKey, pausedKey)
  return redis.call('EXISTS', pausedKey) == 0 and redis.call('LLEN', waitKey) == 0
    and redis.call('EXISTS', waitKey .. ':levels') == 0
end

local function wakeOne(wakeKey)
  if redis.call('LLEN', wakeKey) == 0 then redis.call('LPUSH', wakeKey, '1') end
end

-- One command over many values (ZADD/HSET pairs, ids), in slices: unpack() is bounded by Lua's C
-- stack (LUAI_MAXCSTACK, 8000 values), and 4000 keeps pairs whole. Returns the slices' array
-- replies joined (HMGET: one value per field, false where missing).
local function callInSlices(command, key, values)
  local replies = {}
  for i = 1, #values, 4000 do
    local reply = redis.call(command, key, unpack(values, i, math.min(i + 3999, #values)))
    if type(reply) == 'table' then
      for _, value in ipairs(reply) do replies[#replies + 1] = value end
    end
  end
  return replies
end

--[[
  Whether some process follows task events of the queue: the key is there while one does (it
  sets it before it reads a task's state, and renews it; see QueueWatch). The events a worker
  publishes for every task (STARTED, then the outcome) are skipped without one: most tasks are
  never watched, and those were two of the eight commands Redis ran per task. Events of
  the rarer changes (retry, revoke, progress, dead-letter) are always published.
]]
local function isWatched(watchedKey)
  return redis.call('EXISTS', watchedKey) == 1
end

--[[
  A task waiting to run has no hash (its name and creation time are in its message, see
  enqueue.lua): a script that ends a task without a worker's commit copies them from the message
  into the task's hash, so that they outlive it. Rare paths only: decoding costs.
]]
local function keepNameAndCreated(taskKey, env)
  if not env then return end
  local ok, message = pcall(cjson.decode, env)
  if not ok or type(message) ~= 'table' then return end
  if type(message['task']) == 'string' then redis.call('HSET', taskKey, 'n', message['task']) end
  if type(message['ct']) == 'number' then redis.call('HSET', taskKey, 'ct', string.format('%d', message['ct'])) end
end

--[[
  Records the final outcomes of tasks and ends their leases (complete.lua, and fetch.lua, which
  commits a worker's outcomes before it takes more). ARGV from index `first`: groups of 8: id,
  lease token from the fetch, final state (SUCCESS | FAILURE | REVOKED), payload JSON (the result,
  or the error), '1' to drop the task's hash on SUCCESS (the task ignores its result), the
  sender's reply channel ('' for none), the task's name and creation time from its message (its
  hash has neither: see enqueue.lua). `now` and `ttl` (seconds, '0' = keep) are text.
  `watched`: whether some process follows the queue's task events (see isWatched); without
  one, the per-task event is not published (the reply to a sender that waits still is).

  Per task returns 1 committed, 0 not: a worker whose lease was taken over (its token no longer
  matches) cannot commit; 2 when this very outcome is already recorded (a command resent after
  a reconnect).
]]
local function commitOutcomes(activeKey, messagesKey, taskPrefix, eventPrefix, now, ttl, first, watched)
  local out, done = {}, {}
  local keep = ttl == '0'
  for i = first, #ARGV, 8 do
    local id, token, state, payload, ignore, reply = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5]
    local key = taskPrefix .. id
    -- Each field read or written costs Redis more than the command itself: the state is read
    -- only when the token does not match.
    local held = redis.call('HGET', key, 'tok')
    if held ~= token then
      out[#out + 1] = ((not held or held == '') and redis.call('HGET', key, 'st') == state) and 2 or 0
    else
      done[#done + 1] = id
      -- A failed task keeps its message in its own hash (it expires with it), for inspection; a
      -- successful one drops it, so its hash stays small.
      if state == 'FAILURE' then
        local env = redis.call('HGET', messagesKey, id)
        if env then redis.call('HSET', key, 'env', env) end
      end
      local event
      if ignore == '1' and state == 'SUCCESS' then
        redis.call('DEL', key)
        event = state
      else
        -- The token is emptied, not deleted: one command less, and a few bytes more per task.
        if state == 'SUCCESS' and payload == 'null' then
          -- A task that returns nothing stores no result field (it reads as null): a field less
          -- to write for the most common kind of background task.
          redis.call('HSET', key, 'st', state, 'dt', now, 'tok', '', 'n', ARGV[i + 6], 'ct', ARGV[i + 7])
        else
          redis.call('HSET', key, 'st', state, state == 'SUCCESS' and 'res' or 'err', payload, 'dt', now, 'tok', '', 'n', ARGV[i + 6], 'ct', ARGV[i + 7])
        end
        -- The TTL goes in as text: a Lua number passed to redis.call is formatted again each time.
        if not keep then redis.call('EXPIRE', key, ttl) end
        -- The outcome rides with the event, so a waiter needs no second read.
        event = state .. '\n' .. payload
      end
      if watched then redis.call('PUBLISH', eventPrefix .. id, event) end
      -- The sender waits in its reply inbox: the same event goes there, with the task's id.
      if reply ~= '' then redis.call('PUBLISH', reply, id .. '\n' .. event) end
      out[#out + 1] = 1
    end
  end
  -- The messages are done with (a failed task keeps a copy, above); one command each for all.
  callInSlices('ZREM', activeKey, done)
  callInSlices('HDEL', messagesKey, done)
  return out
end


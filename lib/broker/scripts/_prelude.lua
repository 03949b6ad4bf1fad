--[[
  Shared helpers, prepended to every script when it is loaded (lua-script.ts).

  Ready tasks wait in one list per priority level: level 0 (no priority) in the queue's wait
  list itself, level N > 0 in '<wait>:p<N>'. The set '<wait>:levels' names the levels above 0
  that may hold tasks, so that a fetch looks only at lists that exist. A task's level is the
  'pr' field of its hash, so that every path back to the queue (retry, release, reclaim,
  delayed promotion, requeue) keeps it.
]]
-- Lives in every queue's lease index (the active zset) with score +inf; see fetch.lua.
local LEASE_INDEX_KEEPER = '(not a task: keeps this lease index a skiplist, so that adding and removing leases is cheap)'

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

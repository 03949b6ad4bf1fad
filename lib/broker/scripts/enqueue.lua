--[[
  enqueue: add one or more tasks to a queue, ready now or delayed.

  KEYS[1] wait     LIST  ids ready to run (priority 0; see _prelude.lua for the others)
  KEYS[2] delayed  ZSET  id -> due ms
  KEYS[3] wake     LIST  marker that wakes one blocked worker
  KEYS[4] messages HASH  id -> envelope JSON
  ARGV[1] task key prefix (the id follows)
  ARGV[2] now (epoch ms)
  ARGV[3..] groups of 7: id, envelope JSON, due ms (0 = now), expires ms (0 = never), priority (0-9), task name,
            '1' when the id was generated for this send (no task can have it: not looked up), else '0'

  A task id that already exists is left as it is (a repeated taskId never enqueues twice).
  Returns one integer per task: 1 enqueued, 0 already existed.
]]
local now = tonumber(ARGV[2])
local out = {}
local wake = false
-- Ready tasks of priority 0 and their bodies are written with one command each for the whole
-- batch: per task only its hash is written (and, for a taskId the sender chose, looked up first).
local ready, bodies = {}, {}
for i = 3, #ARGV, 7 do
  local id, env, due, expires, level = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), ARGV[i + 3], ARGV[i + 4]
  local key = ARGV[1] .. id
  if ARGV[i + 6] == '0' and redis.call('EXISTS', key) == 1 then
    out[#out + 1] = 0
  else
    redis.call('HSET', key, 'st', 'PENDING', 'ct', now, 'dlv', 0, 'n', ARGV[i + 5])
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
callInSlices('HSET', KEYS[4], bodies)
callInSlices('RPUSH', KEYS[1], ready)
if #ready > 0 then wake = true end
if wake then wakeOne(KEYS[3]) end
return out

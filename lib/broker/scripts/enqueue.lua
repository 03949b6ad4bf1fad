--[[
  enqueue: add one or more tasks to a queue, ready now or delayed.

  KEYS[1] wait     LIST  ids ready to run (priority 0; see _prelude.lua for the others)
  KEYS[2] delayed  ZSET  id -> due ms
  KEYS[3] wake     LIST  marker that wakes one blocked worker
  KEYS[4] messages HASH  id -> envelope JSON
  ARGV[1] task key prefix (the id follows)
  ARGV[2] now (epoch ms)
  ARGV[3..] per task: id, envelope JSON, then '0' for a plain task (ready now, no expiry,
            priority 0, an id generated for this send), or '1' followed by due ms (0 = now),
            expires ms (0 = never), priority (0-9), and '1' when the id was generated for this send
            (no task can have it: not looked up), else '0'

  A task waiting to run is its message alone: its hash is written when a worker takes it (or
  when it carries an expiry or a priority, which the paths back to the queue read from there).
  Name and creation time are in the message. A task id that already exists is left as it is
  (a repeated taskId never enqueues twice).
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
local i = 3
while i <= #ARGV do
  local id, env = ARGV[i], ARGV[i + 1]
  if ARGV[i + 2] == '0' then
    i = i + 3
    bodies[#bodies + 1] = id
    bodies[#bodies + 1] = env
    ready[#ready + 1] = id
    out[#out + 1] = 1
  else
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
callInSlices('RPUSH', KEYS[1], ready)
if #ready > 0 then wake = true end
if wake then wakeOne(KEYS[3]) end
return out

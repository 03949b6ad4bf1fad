--[[
  enqueue: add one or more tasks to a queue, ready now or delayed.

  KEYS[1] wait     LIST  ids ready to run
  KEYS[2] delayed  ZSET  id -> due ms
  KEYS[3] wake     LIST  marker that wakes one blocked worker
  ARGV[1] task key prefix (the id follows)
  ARGV[2] now (epoch ms)
  ARGV[3..] triples: id, envelope JSON, due ms (0 = now)

  A task id that already exists is left as it is (a repeated taskId never enqueues twice).
  Returns one integer per task: 1 enqueued, 0 already existed.
]]
local now = tonumber(ARGV[2])
local out = {}
local ready = 0
local wakeForDelayed = false
for i = 3, #ARGV, 3 do
  local id, env, due = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  local key = ARGV[1] .. id
  if redis.call('EXISTS', key) == 1 then
    out[#out + 1] = 0
  else
    redis.call('HSET', key, 'env', env, 'st', 'PENDING', 'ct', now, 'dlv', 0)
    if due > now then
      redis.call('ZADD', KEYS[2], due, id)
      -- A new earliest due time: wake a worker so it shortens its blocking wait.
      local first = redis.call('ZRANGE', KEYS[2], 0, 0)
      if first[1] == id then wakeForDelayed = true end
    else
      redis.call('RPUSH', KEYS[1], id)
      ready = ready + 1
    end
    out[#out + 1] = 1
  end
end
if (ready > 0 or wakeForDelayed) and redis.call('LLEN', KEYS[3]) == 0 then
  redis.call('LPUSH', KEYS[3], '1')
end
return out

--[[
  fetch: lease up to N ready tasks to one worker and mark them STARTED.

  KEYS[1] wait        LIST  ids ready to run
  KEYS[2] active      ZSET  id -> lease deadline ms
  KEYS[3] delayed     ZSET  id -> due ms
  KEYS[4] wake        LIST  marker that wakes one blocked worker
  KEYS[5] dead        HASH  id -> dead-letter entry JSON
  KEYS[6] dead index  ZSET  id -> epoch ms
  ARGV[1] task key prefix
  ARGV[2] event channel prefix
  ARGV[3] now (epoch ms)
  ARGV[4] lease deadline (epoch ms)
  ARGV[5] max tasks to take
  ARGV[6] worker id
  ARGV[7] max deliveries of one message
  ARGV[8] queue name
  ARGV[9] result ttl in seconds (0 = keep)

  Before taking work it moves due delayed tasks to the wait list, and puts tasks whose lease
  ran out (their worker stopped renewing it: it died) back at the head of the wait list.
  A task whose state is already final (a redelivery after its result was written) is dropped
  from the queue without being handed out again. A message handed out more than max
  deliveries times (a poison message that kills its workers) is dead-lettered instead.

  Returns { next due ms or -1, then per task: id, envelope ('' when the task hash is missing),
  lease token, delivery count, retry count }.
]]
local now = tonumber(ARGV[3])

local due = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, 1000)
if #due > 0 then
  redis.call('ZREM', KEYS[3], unpack(due))
  redis.call('RPUSH', KEYS[1], unpack(due))
end

local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 1000)
if #expired > 0 then
  redis.call('ZREM', KEYS[2], unpack(expired))
  redis.call('LPUSH', KEYS[1], unpack(expired))
end

local out = { -1 }
local nextDue = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
if nextDue[2] then out[1] = tonumber(nextDue[2]) end

local ids = redis.call('LPOP', KEYS[1], tonumber(ARGV[5]))
if not ids then return out end

local maxDeliveries = tonumber(ARGV[7])
local ttl = tonumber(ARGV[9])

local function deadLetter(id, key, env, dlv)
  local detail = 'handed to a worker ' .. (dlv - 1) .. ' times without an outcome (its worker died each time?)'
  redis.call('HSET', KEYS[5], id, cjson.encode({
    id = id, queue = ARGV[8], reason = 'max-deliveries', detail = detail, message = env, at = now, worker = ARGV[6],
  }))
  redis.call('ZADD', KEYS[6], now, id)
  redis.call('HSET', key, 'st', 'FAILURE', 'dt', now,
    'err', cjson.encode({ name = 'MaxDeliveriesExceeded', message = 'Dead-lettered (max-deliveries): ' .. detail }))
  redis.call('HDEL', key, 'tok')
  if ttl > 0 then redis.call('EXPIRE', key, ttl) end
  redis.call('PUBLISH', ARGV[2] .. id, 'FAILURE')
end

for _, id in ipairs(ids) do
  local key = ARGV[1] .. id
  local fields = redis.call('HMGET', key, 'env', 'st', 'rt')
  local env, st = fields[1], fields[2]
  if st == 'SUCCESS' or st == 'FAILURE' or st == 'REVOKED' then
    -- already final: nothing to run
  elseif not env then
    -- no message body at all: lease it anyway so the worker can dead-letter it
    redis.call('ZADD', KEYS[2], ARGV[4], id)
    out[#out + 1] = id
    out[#out + 1] = ''
    out[#out + 1] = ARGV[6] .. ':0'
    out[#out + 1] = 0
    out[#out + 1] = 0
  else
    local dlv = redis.call('HINCRBY', key, 'dlv', 1)
    if dlv > maxDeliveries then
      deadLetter(id, key, env, dlv)
    else
      local token = ARGV[6] .. ':' .. dlv
      redis.call('HSET', key, 'st', 'STARTED', 'stt', now, 'tok', token)
      redis.call('ZADD', KEYS[2], ARGV[4], id)
      redis.call('PUBLISH', ARGV[2] .. id, 'STARTED')
      out[#out + 1] = id
      out[#out + 1] = env
      out[#out + 1] = token
      out[#out + 1] = dlv
      out[#out + 1] = tonumber(fields[3] or '0')
    end
  end
end

-- More work left: pass the wake-up on to another blocked worker.
if redis.call('LLEN', KEYS[1]) > 0 and redis.call('LLEN', KEYS[4]) == 0 then
  redis.call('LPUSH', KEYS[4], '1')
end
return out

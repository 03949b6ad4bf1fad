--[[
  requeue-dead: put dead-lettered tasks back on their queue as new, with their original message.

  KEYS[1] dead        HASH  id -> dead-letter entry JSON
  KEYS[2] dead index  ZSET  id -> epoch ms
  KEYS[3] wait        LIST  ids ready to run
  KEYS[4] wake        LIST  marker that wakes one blocked worker
  KEYS[5] messages    HASH  id -> envelope JSON
  ARGV[1] task key prefix
  ARGV[2] event channel prefix
  ARGV[3] now (epoch ms)
  ARGV[4..] ids

  Per id returns 1 requeued, 0 no such dead letter, -1 kept (the message body was missing, so
  there is nothing to run).
]]
local out = {}
local any = false
for i = 4, #ARGV do
  local id = ARGV[i]
  local raw = redis.call('HGET', KEYS[1], id)
  if not raw then
    out[#out + 1] = 0
  else
    local entry = cjson.decode(raw)
    local message = entry['message']
    if type(message) ~= 'string' or message == '' then
      out[#out + 1] = -1
    else
      local key = ARGV[1] .. id
      redis.call('HDEL', KEYS[1], id)
      redis.call('ZREM', KEYS[2], id)
      redis.call('DEL', key)
      redis.call('HSET', key, 'st', 'PENDING', 'ct', ARGV[3], 'dlv', 0)
      redis.call('HSET', KEYS[5], id, message)
      -- Keep the name and priority the message was sent with (a malformed one may not parse).
      local ok, env = pcall(cjson.decode, message)
      if ok and type(env) == 'table' then
        if type(env['task']) == 'string' then redis.call('HSET', key, 'n', env['task']) end
        if type(env['priority']) == 'number' and env['priority'] > 0 then
          redis.call('HSET', key, 'pr', tostring(env['priority']))
        end
      end
      pushReady(KEYS[3], key, id, false)
      redis.call('PUBLISH', ARGV[2] .. id, 'PENDING')
      any = true
      out[#out + 1] = 1
    end
  end
end
if any then wakeOne(KEYS[4]) end
return out

--[[
  revoke: stop a task from running (Celery's revoke).

  KEYS[1] task     HASH
  KEYS[2] delayed  ZSET  id -> due ms
  KEYS[3] messages HASH  id -> envelope JSON
  ARGV[1] id
  ARGV[2] reason
  ARGV[3] now (epoch ms)
  ARGV[4] result ttl in seconds (0 = keep)
  ARGV[5] event channel
  ARGV[6] '1' to terminate it if it is running
  ARGV[7] the queue's control channel (workers listen there)

  A task that has not started ends REVOKED now (a queued id is skipped when fetched). An id not
  seen yet is remembered as REVOKED, so that a later send with that id does not run. A running
  task is flagged (should its worker die, it is not run again) and, with terminate, its worker
  is told to abort it.
  Returns 1 revoked, 2 running (flagged; told to terminate when asked), 0 already final.
]]
local st = redis.call('HGET', KEYS[1], 'st')
if st == 'SUCCESS' or st == 'FAILURE' or st == 'REVOKED' then return 0 end
local err = cjson.encode({ name = 'TaskRevokedError', message = ARGV[2] })
if st == 'STARTED' or st == 'PROGRESS' then
  redis.call('HSET', KEYS[1], 'rv', ARGV[2])
  if ARGV[6] == '1' then redis.call('PUBLISH', ARGV[7], 'terminate\n' .. ARGV[1] .. '\n' .. ARGV[2]) end
  return 2
end
redis.call('ZREM', KEYS[2], ARGV[1])
keepNameAndCreated(KEYS[1], redis.call('HGET', KEYS[3], ARGV[1]))
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('HSET', KEYS[1], 'st', 'REVOKED', 'err', err, 'dt', ARGV[3])
redis.call('HDEL', KEYS[1], 'tok')
local ttl = tonumber(ARGV[4])
if ttl > 0 then redis.call('EXPIRE', KEYS[1], ttl) end
redis.call('PUBLISH', ARGV[5], 'REVOKED\n' .. err)
return 1

--[[
  schedule-tick: enqueue the task of one periodic schedule for one tick, exactly once however
  many scheduler replicas ask.

  KEYS[1] schedule  STRING the last tick enqueued (epoch ms)
  KEYS[2] task      HASH  of the task this tick creates
  KEYS[3] wait      LIST  ids ready to run
  KEYS[4] wake      LIST  marker that wakes one blocked worker
  KEYS[5] messages  HASH  id -> envelope JSON
  ARGV[1] tick (epoch ms)
  ARGV[2] task id
  ARGV[3] envelope JSON
  ARGV[4] now (epoch ms)
  ARGV[5] task name

  Returns 1 enqueued, 0 this tick (or a later one) was enqueued already.
]]
local last = tonumber(redis.call('GET', KEYS[1]) or '-1')
if last >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('HSET', KEYS[2], 'st', 'PENDING', 'ct', ARGV[4], 'dlv', 0, 'n', ARGV[5])
redis.call('HSET', KEYS[5], ARGV[2], ARGV[3])
redis.call('RPUSH', KEYS[3], ARGV[2])
wakeOne(KEYS[4])
return 1

--[[
  rate-limit: the start slots of a rate-limited task, across every worker. Starts are at least
  one interval apart (GCRA with no burst).

  KEYS[1] limiter  HASH  tat: the next free slot to hand out; last: the last actual start (epoch ms)
  ARGV[1] now (epoch ms)
  ARGV[2] interval in ms (period / limit)
  ARGV[3] 'reserve' or 'start'

  reserve: hands out the next free slot (now or later) and returns it. A task given a later slot
           waits for it in the delayed set, so a backlog does not churn.
  start:   a task about to start (on or after its slot) records its start; if the last start was
           less than one interval ago (a slot held by a task that ran late) it returns the time to
           wait for, and records nothing. Returns 0 when it may start now.
]]
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local fields = redis.call('HMGET', KEYS[1], 'tat', 'last')
local tat = tonumber(fields[1] or '0')
local last = tonumber(fields[2] or '-1e18')
local result
if ARGV[3] == 'reserve' then
  local slot = math.max(tat, now)
  redis.call('HSET', KEYS[1], 'tat', string.format('%.3f', slot + interval))
  result = slot
else
  if now < last + interval then return string.format('%.3f', last + interval) end
  redis.call('HSET', KEYS[1], 'last', string.format('%.3f', now), 'tat', string.format('%.3f', math.max(tat, now + interval)))
  result = 0
end
local horizon = math.max(tat, now) + interval
redis.call('PEXPIRE', KEYS[1], math.ceil(horizon - now + 60000))
return string.format('%.3f', result)

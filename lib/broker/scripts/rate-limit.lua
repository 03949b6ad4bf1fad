--[[
  rate-limit: reserve the next start slot of a rate-limited task (GCRA with no burst: starts
  are at least one interval apart, across every worker).

  KEYS[1] limiter  STRING the theoretical time of the next free slot (epoch ms)
  ARGV[1] now (epoch ms)
  ARGV[2] interval in ms (period / limit)

  Returns the reserved slot: now or earlier means run now, later means wait until then.
]]
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local slot = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), now)
local nextFree = slot + interval
redis.call('SET', KEYS[1], string.format('%.3f', nextFree), 'PX', math.ceil(nextFree - now + 1000))
return string.format('%.3f', slot)

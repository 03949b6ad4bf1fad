--[[
  complete: record the final outcomes of one or more tasks of a queue and end their leases, in
  one step (a worker commits everything that finished in one turn of its event loop at once,
  when no fetch of the same queue carries them: see fetch.lua).

  KEYS[1] active    ZSET  id -> lease deadline ms
  KEYS[2] messages  HASH  id -> envelope JSON
  KEYS[3] watched   STRING present while some process follows the queue's task events
  ARGV[1] task key prefix
  ARGV[2] event channel prefix
  ARGV[3] now (epoch ms)
  ARGV[4] result ttl in seconds (0 = keep)
  ARGV[5..] the outcomes, groups of 8 (see commitOutcomes in _prelude.lua)

  Returns per task 1 committed, 0 not (the lease was taken over), 2 already recorded.
]]
return commitOutcomes(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4], 5, isWatched(KEYS[3]))

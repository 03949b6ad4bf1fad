--[[
  complete: record the final outcomes of one or more tasks of a queue and end their leases, in
  one step (a worker commits everything that finished in one turn of its event loop at once,
  when no fetch of the same queue carries them: see fetch.lua).

  KEYS[1] active    ZSET  id -> lease deadline ms
  KEYS[2] messages  HASH  id -> envelope JSON
  KEYS[3] watched   STRING present while some process follows the queue's task events
  KEYS[4] wait      LIST  ids ready to run (priority 0; see _prelude.lua for the others)
  KEYS[5] paused    STRING present while the queue is paused
  KEYS[6] idle      ZSET  '<lease ms> <worker id>' -> registered until (ms) (see enqueue.lua)
  ARGV[1] task key prefix
  ARGV[2] event channel prefix
  ARGV[3] now (epoch ms)
  ARGV[4] result ttl in seconds (0 = keep)
  ARGV[5] '0', or until when (epoch ms) the committing worker is registered as idle: it waits for
          work next with room, and takes hand-offs (one queue); registered only while nothing
          waits in the queue and it is not paused (else its wake-up marker is there for it)
  ARGV[6] its registration ('<lease ms> <worker id>'), when ARGV[5] is not '0'
  ARGV[7..] the outcomes, groups of 8 (see commitOutcomes in _prelude.lua)

  Returns per task 1 committed, 0 not (the lease was taken over), 2 already recorded.
]]
local out = commitOutcomes(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4], 7, isWatched(KEYS[3]))
if ARGV[5] ~= '0' and nothingWaits(KEYS[4], KEYS[5]) then redis.call('ZADD', KEYS[6], ARGV[5], ARGV[6]) end
return out

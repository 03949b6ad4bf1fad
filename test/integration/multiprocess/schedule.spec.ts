// Periodic schedules across worker processes: every replica runs the scheduler, each tick is sent
// and run exactly once, and a restart catches up (or not) as the schedule's catchUp says.
// Worker processes are test/fixtures/worker-app/main.mjs (the built package: `npm run build` first).
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { leaseCount, rawRedis, testRedisUrl, uniquePrefix } from '../../support/test-redis.js';
import { deleteKeys, sleep, taskHashes, until, WorkerProcs, type WorkerEnv, type WorkerProc } from './worker-procs.js';

const EVERY = 1_000;
const floorTick = (t: number) => Math.floor(t / EVERY) * EVERY;

interface Execution {
  id: string;
  tick: number;
  pid: number;
}

describe('periodic schedule with several worker processes', () => {
  let procs: WorkerProcs;
  let redis: Redis;
  let prefix: string;
  let env: WorkerEnv;

  beforeEach(() => {
    procs = new WorkerProcs();
    redis = rawRedis();
    prefix = uniquePrefix('mpsched');
    env = { REDIS_URL: testRedisUrl(), TQ_PREFIX: prefix, SCHEDULE_EVERY_MS: String(EVERY) };
  });

  afterEach(async () => {
    await procs.killAll();
    await deleteKeys(redis, prefix).catch(() => undefined);
    redis.disconnect();
  });

  async function executions(): Promise<Execution[]> {
    const entries = await redis.lrange(`${prefix}:test:ticks`, 0, -1);
    return entries.map((entry) => {
      const [id, pid] = entry.split(' ') as [string, string];
      const match = /^mp\.tick@(\d+)$/.exec(id);
      if (!match) throw new Error(`unexpected task id in the executions: ${entry}`);
      return { id, tick: Number(match[1]), pid: Number(pid) };
    });
  }

  /** Checks that runs and task hashes agree: every tick sent ran once, with SUCCESS. */
  async function checkExactlyOnce(runs: Execution[]): Promise<number[]> {
    const ids = runs.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length); // no tick ran twice
    const hashes = await taskHashes(redis, prefix, 'mp.tick@');
    expect([...hashes.keys()].sort()).toEqual([...ids].sort()); // every tick sent ran, and only those
    for (const [id, h] of hashes) {
      expect({ id, st: h.st, dlv: h.dlv }).toEqual({ id, st: 'SUCCESS', dlv: '1' });
      expect(h.n).toBe('mp.tick'); // the message itself is dropped once the task succeeds
    }
    expect(await redis.llen(`${prefix}:{default}:wait`)).toBe(0);
    expect(await leaseCount(redis, `${prefix}:{default}:active`)).toBe(0);
    return runs.map((r) => r.tick).sort((a, b) => a - b);
  }

  function expectConsecutive(ticks: number[]): void {
    for (const t of ticks) expect(t % EVERY).toBe(0);
    const gaps = ticks.slice(1).map((t, i) => t - (ticks[i] as number));
    expect(gaps).toEqual(gaps.map(() => EVERY)); // no tick missing in between, none twice
  }

  async function ct(id: string): Promise<number> {
    return Number(await redis.hget(`${prefix}:{default}:t:${id}`, 'ct'));
  }

  /** Sleeps until `at` (epoch ms). */
  const sleepUntil = (at: number) => sleep(at - Date.now());

  /**
   * Waits until `atLeast` ticks ran, then stops the workers (SIGTERM, exit 0) 200 ms after the
   * latest tick, long before the next one: no tick is left sent but unrun. Returns that tick.
   */
  async function stopAfterNextTick(workers: WorkerProc[], atLeast: number): Promise<number> {
    await until(async () => (await redis.llen(`${prefix}:test:ticks`)) >= atLeast, 8_000, () => procs.logs());
    const latest = async () => Math.max(...(await executions()).map((r) => r.tick));
    await sleepUntil((await latest()) + 200);
    expect(await procs.terminate(workers)).toEqual(workers.map(() => 0));
    const last = await latest();
    expect(Number(await redis.get(`${prefix}:{default}:sched:mp.tick`))).toBe(last);
    return last;
  }

  it('sends and runs each tick exactly once with 3 schedulers running', async () => {
    const workers = await procs.start(3, env);
    const firstReady = Math.min(...workers.map((w) => w.readyAt));
    for (const w of workers) expect(w.output.join('')).toContain('Scheduler running mp.tick');

    // ~4.5 s of ticks; stop half-way between two ticks so that the last one sent has run.
    const stopAt = floorTick(firstReady + 4_500) + EVERY / 2;
    await sleepUntil(stopAt);
    const codes = await procs.terminate(workers);
    expect(codes).toEqual([0, 0, 0]);

    const runs = await executions();
    const ticks = await checkExactlyOnce(runs);
    expectConsecutive(ticks);
    expect(ticks.length).toBeGreaterThanOrEqual(4);
    // Every tick due while a scheduler ran was sent: from the first one after the first scheduler
    // started up to the last one before the stop.
    expect(ticks[0]).toBeLessThanOrEqual(floorTick(firstReady) + EVERY);
    expect(ticks[ticks.length - 1]).toBe(floorTick(stopAt));
    expect(Number(await redis.get(`${prefix}:{default}:sched:mp.tick`))).toBe(ticks[ticks.length - 1]);
    // Sent on time (by whichever replica won the tick), not late.
    for (const t of ticks) expect((await ct(`mp.tick@${t}`)) - t).toBeLessThan(500);
  }, 25_000);

  /**
   * Runs 2 workers until 2 ticks ran, stops them all, and starts 3 again 1.7 s after the last
   * tick sent: booting takes 0.7-2.5 s here, so their schedulers start 2.4 s or more after it,
   * and 2 ticks (or more on a slow machine) fell due while no scheduler ran.
   */
  async function restartScenario(catchUp: 'none' | 'last') {
    const first = await procs.start(2, { ...env, CATCH_UP: catchUp });
    const last = await stopAfterNextTick(first, 2);
    const before = await executions();

    await sleepUntil(last + 1_700);
    const spawnAt = Date.now();
    const second = await procs.start(3, { ...env, CATCH_UP: catchUp });
    // The first restarted scheduler caught up (or not) just before it logged 'Scheduler running'.
    const schedulerAt = Math.min(...second.map((w) => w.schedulerAt));
    const lastReady = Math.max(...second.map((w) => w.readyAt));
    // Two more ticks after every worker is up, then stop.
    await until(
      async () => (await executions()).filter((r) => r.tick > floorTick(lastReady)).length >= 2,
      8_000,
      () => procs.logs(),
    );
    const resumed = await stopAfterNextTick(second, 0);

    const runs = await executions();
    const ticks = await checkExactlyOnce(runs);
    const beforeTicks = before.map((r) => r.tick).sort((a, b) => a - b);
    expectConsecutive(beforeTicks);
    expect(beforeTicks[beforeTicks.length - 1]).toBe(last);
    const after = ticks.filter((t) => t > last);
    expectConsecutive(after);
    expect(after[after.length - 1]).toBe(resumed);
    // The ticks that fell due while no scheduler ran for sure: (last, schedulerAt - CATCH_UP_SLACK].
    const missedTicks: number[] = [];
    for (let t = last + EVERY; t <= schedulerAt - CATCH_UP_SLACK; t += EVERY) missedTicks.push(t);
    const timing = { last, spawnAt: spawnAt - last, schedulerAt: schedulerAt - last, after: after.map((t) => t - last) };
    return { last, spawnAt, schedulerAt, after, missedTicks, timing, logs: () => procs.logs() };
  }

  /**
   * Most ms between a scheduler's catch-up and this process reading the 'Scheduler running' line
   * it logs next (two Redis round trips, a pipe, and this event loop). A tick within this much
   * before schedulerAt may have been caught up or sent on time.
   */
  const CATCH_UP_SLACK = 200;

  it("catchUp 'last': a restart sends the most recent missed tick once, then ticks resume", async () => {
    const { last, spawnAt, schedulerAt, after, missedTicks, timing, logs } = await restartScenario('last');
    expect({ timing, missed: missedTicks.length >= 2 }).toEqual({ timing, missed: true });
    const caughtUp = after[0] as number;
    // The most recent missed tick, and none of the others: not two, not zero.
    expect([floorTick(schedulerAt - CATCH_UP_SLACK), floorTick(schedulerAt)]).toContain(caughtUp);
    expect(caughtUp).toBeGreaterThanOrEqual(last + 2 * EVERY);
    expect(after.filter((t) => missedTicks.includes(t))).toEqual(missedTicks.includes(caughtUp) ? [caughtUp] : []);
    // It was sent late by a restarted worker (a catch-up); the ones after it came on time.
    expect(await ct(`mp.tick@${caughtUp}`)).toBeGreaterThanOrEqual(spawnAt);
    for (const t of after.slice(1)) expect((await ct(`mp.tick@${t}`)) - t).toBeLessThan(300);
    // Exactly one of the 3 restarted replicas logged that it caught up.
    expect(logs().match(/missed while down/g) ?? []).toHaveLength(1);
  }, 25_000);

  it("catchUp 'none': a restart sends no missed tick, ticks resume on time", async () => {
    const { last, schedulerAt, after, missedTicks, timing, logs } = await restartScenario('none');
    expect({ timing, missed: missedTicks.length >= 2 }).toEqual({ timing, missed: true });
    // None of the ticks that fell due while no scheduler ran was sent.
    expect(after.filter((t) => t <= schedulerAt - CATCH_UP_SLACK)).toEqual([]);
    // Ticks resume with the next one after the first scheduler started, each sent on time.
    expect([floorTick(schedulerAt - CATCH_UP_SLACK) + EVERY, floorTick(schedulerAt) + EVERY]).toContain(after[0]);
    for (const t of after) expect((await ct(`mp.tick@${t}`)) - t).toBeLessThan(300);
    expect(logs()).not.toMatch(/missed while down/);
  }, 25_000);
});

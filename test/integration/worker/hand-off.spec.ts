// Hand-offs: a plain task sent while a worker of its queue waits idle is given to that worker by
// its enqueue (leased to it and STARTED there), instead of waiting for the worker to be woken and
// fetch it. Registrations are written by the worker's fetches (see fetch.lua); most tests below
// write one by hand for a worker id of their own, so that what the enqueue does can be read back
// before any worker takes it.
import { afterEach, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import type { TestingModule } from '@nestjs/testing';
import { Task, TaskClient, TaskWorkerHost } from '../../../lib/index.js';
import { TaskQueueEngine } from '../../../lib/engine.js';
import type { Redis } from 'ioredis';
import type { LeaseTerms } from '../../../lib/broker/broker.js';
import type { QueueKeys } from '../../../lib/broker/keys.js';
import { bootApp } from '../../support/nest-app.js';
import { eventually, leaseCount, rawRedisForEachTest } from '../../support/test-redis.js';

/** Released by the test: tasks of 'hand.hold' run until then. */
let gate: { open: () => void; opened: Promise<void> } = newGate();
function newGate(): typeof gate {
  let open = (): void => undefined;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

@Injectable()
class HandOffTasks {
  @Task('hand.echo')
  echo(n: number): number {
    return n;
  }

  @Task('hand.hold')
  async hold(n: number): Promise<number> {
    await gate.opened;
    return n;
  }
}

const FAKE = 'fake-host:1:abc';
const fakeTerms: LeaseTerms = { leaseMs: 30_000, workerId: FAKE, maxDeliveries: 5, resultTtlSec: 600, idleMs: 10_000 };

/**
 * The fetches and commits Redis runs from now on, as MONITOR sees them: 'fetch carrying <n
 * outcomes>' and 'commit of <n outcomes>[, registering]' (the commit that registers its worker
 * as idle). Call stop() when done.
 */
async function watchScriptCalls(watcher: Redis, keys: QueueKeys): Promise<{ calls: string[]; stop: () => void }> {
  // Ready first: ioredis fails a MONITOR connection that sees a command (this client's own
  // ready-check INFO) before it has switched to monitoring (taskforcesh/bullmq#2505).
  await watcher.ping();
  const monitor = await watcher.monitor();
  const calls: string[] = [];
  // fetch.lua: 10 keys, the wait list first, 11 arguments, then 8 per outcome. complete.lua: 6 keys,
  // the lease index first, 6 arguments (the 5th: '0' or until when it registers), then 8 per outcome.
  monitor.on('monitor', (_time: string, args: string[]) => {
    if (args[0]?.toLowerCase() !== 'evalsha') return;
    if (args[2] === '10' && args[3] === keys.wait) calls.push(`fetch carrying ${(args.length - 3 - 10 - 11) / 8}`);
    if (args[2] === '6' && args[3] === keys.active) {
      calls.push(`commit of ${(args.length - 3 - 6 - 6) / 8}${args[3 + 6 + 4] === '0' ? '' : ', registering'}`);
    }
  });
  return { calls, stop: () => monitor.disconnect() };
}

describe('hand-off: an enqueue gives a plain task to a worker that waits idle', () => {
  let app: TestingModule | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });
  const raw = rawRedisForEachTest();

  async function boot(worker: { concurrency?: number; leaseMs?: number } = {}) {
    app = await bootApp([HandOffTasks], { worker: { concurrency: 1, ...worker } });
    const engine = app.get(TaskQueueEngine);
    return { client: app.get(TaskClient), broker: engine.broker, keys: engine.broker.keys('default'), redis: raw() };
  }

  it('leases it to the idle worker, marks it STARTED and puts it in that worker\'s hand-off list, not in the wait list', async () => {
    const { client, keys, redis } = await boot();
    await redis.zadd(keys.idle, Date.now() + 60_000, `30000 ${FAKE}`);
    const before = Date.now();
    const handle = await client.send('hand.echo', [1]);
    const after = Date.now();

    expect(await redis.llen(keys.wait)).toBe(0);
    const body = await redis.hget(keys.messages, handle.id);
    const [entry] = await redis.lrange(keys.handOff(FAKE), 0, -1);
    const [id, sentAt, message] = (entry ?? '').split('\n');
    expect(id).toBe(handle.id);
    expect(Number(sentAt)).toBeGreaterThanOrEqual(before);
    expect(Number(sentAt)).toBeLessThanOrEqual(after);
    expect(message).toBe(body);
    expect(await redis.hgetall(keys.task(handle.id))).toEqual({ st: 'STARTED', stt: sentAt, tok: `${FAKE}:1`, dlv: '1' });
    expect(Number(await redis.zscore(keys.active, handle.id))).toBe(Number(sentAt) + 30_000);
    const ttl = await redis.pttl(keys.handOff(FAKE));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(30_000);
    await expect(handle.state()).resolves.toBe('STARTED');
    // One task per registration: the next send waits in the queue.
    expect(await redis.zcard(keys.idle)).toBe(0);
    const next = await client.send('hand.echo', [2]);
    expect(await redis.lrange(keys.wait, 0, -1)).toEqual([next.id]);
  });

  it('hands nothing over while the queue is paused, while tasks wait, to an out-of-date registration, or for a delayed, prioritised or named task', async () => {
    const { client, keys, redis } = await boot();
    const register = () => redis.zadd(keys.idle, Date.now() + 60_000, `30000 ${FAKE}`);
    const handedOver = () => redis.llen(keys.handOff(FAKE));
    await register();

    await redis.set(keys.paused, '1');
    const whilePaused = await client.send('hand.echo', [1]);
    await redis.del(keys.paused);
    expect(await redis.lrange(keys.wait, 0, -1)).toEqual([whilePaused.id]);
    // A task already waits: the next one must not overtake it.
    const behind = await client.send('hand.echo', [2]);
    expect(await redis.lrange(keys.wait, 0, -1)).toEqual([whilePaused.id, behind.id]);
    await redis.del(keys.wait);

    await client.send('hand.echo', [3], { countdown: 60_000 });
    await client.send('hand.echo', [4], { priority: 5 });
    await redis.del(`${keys.wait}:p5`, `${keys.wait}:levels`);
    const named = await client.send('hand.echo', [5], { taskId: 'chosen-id' });
    expect(await redis.lrange(keys.wait, 0, -1)).toEqual([named.id]);
    await redis.del(keys.wait);
    expect(await handedOver()).toBe(0);
    expect(await redis.zcard(keys.idle)).toBe(1);

    // A registration past its time is a worker that stopped without saying so: dropped, not used.
    await redis.zadd(keys.idle, Date.now() - 1, `30000 ${FAKE}`);
    const late = await client.send('hand.echo', [6]);
    expect(await redis.lrange(keys.wait, 0, -1)).toEqual([late.id]);
    expect(await redis.exists(keys.idle)).toBe(0);
    expect(await handedOver()).toBe(0);
  });

  it('hands a batch over one task per idle worker, in order, and queues the rest behind them', async () => {
    const { client, keys, redis } = await boot();
    await redis.zadd(keys.idle, Date.now() + 60_000, `30000 ${FAKE}`, Date.now() + 50_000, '30000 other:2:def');
    const handles = await client.sendMany([1, 2, 3].map((n) => ({ name: 'hand.echo', args: [n] })));
    const first = await redis.lrange(keys.handOff(FAKE), 0, -1);
    const second = await redis.lrange(keys.handOff('other:2:def'), 0, -1);
    expect(first.map((e) => e.split('\n')[0])).toEqual([handles[0]?.id]);
    expect(second.map((e) => e.split('\n')[0])).toEqual([handles[1]?.id]);
    expect(await redis.lrange(keys.wait, 0, -1)).toEqual([handles[2]?.id]);
    expect(await leaseCount(redis, keys.active)).toBe(2);
    expect(await redis.hget(keys.task(handles[1]?.id ?? ''), 'tok')).toBe('other:2:def:1');
  });

  it('takes back a task handed to a worker that died once its lease runs out, and runs it once', async () => {
    const { client, keys, redis } = await boot({ leaseMs: 1_000 });
    await redis.zadd(keys.idle, Date.now() + 60_000, `1000 ${FAKE}`);
    const handle = await client.send('hand.echo', [7]);
    expect(await redis.llen(keys.handOff(FAKE))).toBe(1);
    await app?.get(TaskWorkerHost).start();
    await expect(handle.result({ timeout: 10_000 })).resolves.toBe(7);
    expect((await handle.snapshot()).deliveries).toBe(2);
    // Nobody takes the dead worker's list: it goes with its expiry.
    await eventually(async () => (await redis.exists(keys.handOff(FAKE))) === 0, 5_000);
  });

  it('a fetch of the worker takes what was handed to it first, skips a hand-off whose lease was taken back, and registers it idle only when it leaves it waiting with room', async () => {
    const { client, broker, keys, redis } = await boot();
    await redis.zadd(keys.idle, Date.now() + 60_000, `30000 ${FAKE}`);
    const handed = await client.send('hand.echo', [1]);
    const queued = await client.send('hand.echo', [2]);

    const took = await broker.fetch('default', 5, fakeTerms, false);
    expect(took.tasks.map((t) => [t.id, t.token, t.delivery])).toEqual([
      [handed.id, `${FAKE}:1`, 1],
      [queued.id, `${FAKE}:1`, 1],
    ]);
    expect(JSON.parse(took.tasks[0]?.body ?? '{}')).toMatchObject({ id: handed.id, task: 'hand.echo', args: [1] });
    expect(await redis.llen(keys.handOff(FAKE))).toBe(0);
    // It took fewer than it asked for and left the queue empty: it waits next, registered.
    const registeredUntil = Number(await redis.zscore(keys.idle, `30000 ${FAKE}`));
    expect(registeredUntil).toBeGreaterThan(Date.now());
    expect(registeredUntil).toBeLessThanOrEqual(Date.now() + 10_000);

    // A hand-off whose lease ran out and was taken back (requeued by a sweep) is not this worker's any more.
    const stale = await client.send('hand.echo', [3]);
    await redis.zrem(keys.active, stale.id);
    await redis.rpush(keys.wait, stale.id);
    const again = await broker.fetch('default', 1, fakeTerms, false);
    expect(again.tasks.map((t) => t.id)).toEqual([stale.id]);
    expect(again.tasks[0]?.delivery).toBe(2);
    // Filled: not registered.
    expect(await redis.zscore(keys.idle, `30000 ${FAKE}`)).toBeNull();
  });

  it('gives back what was handed to a worker that stops, as it was before: waiting, with no delivery counted', async () => {
    const { client, broker, keys, redis } = await boot();
    await redis.zadd(keys.idle, Date.now() + 60_000, `30000 ${FAKE}`);
    const handle = await client.send('hand.echo', [4]);
    const other = await client.send('hand.echo', [5]);

    await expect(broker.handBack('default', FAKE, 30_000, [], true)).resolves.toBe(1);
    expect(await redis.lrange(keys.wait, 0, -1)).toEqual([handle.id, other.id]);
    expect(await redis.exists(keys.task(handle.id), keys.handOff(FAKE))).toBe(0);
    expect(await leaseCount(redis, keys.active)).toBe(0);
    expect(await redis.zcard(keys.idle)).toBe(0);
    await expect(handle.state()).resolves.toBe('PENDING');
    // Given back twice (a late duplicate): nothing happens.
    await expect(broker.handBack('default', FAKE, 30_000, [handle.id], false)).resolves.toBe(0);
    expect(await redis.llen(keys.wait)).toBe(2);

    await app?.get(TaskWorkerHost).start();
    await expect(handle.result({ timeout: 5_000 })).resolves.toBe(4);
    expect((await handle.snapshot()).deliveries).toBe(1);
  });

  it.each([1, 4])('a real idle worker (concurrency %i) registers itself, is handed what is sent, commits it alone with its registration again (no fetch), and unregisters when it stops', async (concurrency) => {
    const { client, keys, redis } = await boot({ concurrency });
    await app?.get(TaskWorkerHost).start();
    await eventually(async () => (await redis.zcard(keys.idle)) === 1, 5_000);
    const [member] = await redis.zrange(keys.idle, 0, -1);
    expect(member).toMatch(/^30000 .+:\d+:[0-9a-f]{6}$/);

    const { calls, stop } = await watchScriptCalls(raw(), keys);
    try {
      const handle = await client.send('hand.echo', [9]);
      await expect(handle.result({ timeout: 5_000 })).resolves.toBe(9);
      await eventually(async () => (await redis.zscore(keys.idle, member ?? '')) !== null, 5_000);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect((await handle.snapshot()).deliveries).toBe(1);
    } finally {
      stop();
    }
    // No fetch took it (it was handed over), and none followed: nothing else was sent, so the
    // worker commits it alone, registered again in the same call, and waits.
    expect(calls).toEqual(['commit of 1, registering']);

    await app?.get(TaskWorkerHost).stop();
    expect(await redis.zcard(keys.idle)).toBe(0);
  });

  it('a worker with room left registers again while a handed task runs, is handed the next one too, and fetches neither', async () => {
    gate = newGate();
    const { client, keys, redis } = await boot({ concurrency: 4 });
    await app?.get(TaskWorkerHost).start();
    await eventually(async () => (await redis.zcard(keys.idle)) === 1, 5_000);
    const { calls, stop } = await watchScriptCalls(raw(), keys);
    try {
      const first = await client.send('hand.hold', [1]);
      // Running, and registered again with a call of its own (nothing to commit yet).
      await eventually(async () => (await redis.zcard(keys.idle)) === 1 && (await first.state()) === 'STARTED', 5_000);
      const second = await client.send('hand.hold', [2]);
      await eventually(async () => (await second.state()) === 'STARTED', 5_000);
      expect(await redis.llen(keys.wait)).toBe(0);
      gate.open();
      await expect(Promise.all([first.result({ timeout: 5_000 }), second.result({ timeout: 5_000 })])).resolves.toEqual([1, 2]);
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      stop();
    }
    // The first left it room: registered again by a call of its own. The second filled its lane:
    // no registration until both ended, in one turn, and were committed together with one.
    expect(calls).toEqual(['commit of 0, registering', 'commit of 2, registering']);
  });

  it('still fetches (and so sweeps) at least once per longest wait while every task is handed over', async () => {
    const { client, keys, redis } = await boot();
    const engine = app?.get(TaskQueueEngine);
    const worker = engine?.createWorker(
      { get: (name) => (name === 'hand.echo' ? { name, takesContext: false, invoke: (args) => args[0] } : undefined) },
      { queues: ['default'], concurrency: 1, leaseMs: 30_000, shutdownGraceMs: 1_000, resultTtlSec: 60, maxDeliveries: 5, maxBlockMs: 300 },
      () => ({ log: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined, verbose: () => undefined }),
    );
    await worker?.start();
    await eventually(async () => (await redis.zcard(keys.idle)) === 1, 5_000);
    const { calls, stop } = await watchScriptCalls(raw(), keys);
    try {
      // A task every 50 ms for a second and a half: the worker never waits out its 300 ms.
      for (let i = 0; i < 30; i++) {
        await expect((await client.send('hand.echo', [i])).result({ timeout: 5_000 })).resolves.toBe(i);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      stop();
      await worker?.close();
    }
    const fetches = calls.filter((c) => c.startsWith('fetch')).length;
    expect(fetches).toBeGreaterThanOrEqual(3);
    expect(fetches).toBeLessThanOrEqual(10);
  });
});

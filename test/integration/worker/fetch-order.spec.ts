import { afterEach, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import type { TestingModule } from '@nestjs/testing';
import { Task, TaskClient, TaskWorkerHost } from '../../../lib/index.js';
import { TaskQueueEngine } from '../../../lib/engine.js';
import { bootApp } from '../../support/nest-app.js';
import { capturingLogger, eventually, leaseCount, markWatched, quietLogger, rawRedis, testRedisUrl, uniquePrefix } from '../../support/test-redis.js';

@Injectable()
class EchoTasks {
  @Task('order.echo')
  echo(n: number): number {
    return n;
  }
}

/** Tasks that hold their slot until the test lets them go, so the test sees how many run at once. */
@Injectable()
class HeldTasks {
  running = 0;
  private release!: () => void;
  private released = new Promise<void>((resolve) => (this.release = resolve));

  @Task('order.held')
  async held(): Promise<void> {
    this.running++;
    await this.released;
  }

  letGo(): void {
    this.release();
  }
}

describe('fetch: what a worker asks Redis for, and in which order', () => {
  let app: TestingModule | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('commits an outcome before it fetches the next task, so the outcome is not held behind that fetch', async () => {
    app = await bootApp([EchoTasks], { worker: { concurrency: 1 } });
    const client = app.get(TaskClient);
    const keys = app.get(TaskQueueEngine).broker.keys('default');
    const first = await client.send('order.echo', [1]);
    const second = await client.send('order.echo', [2]);

    const listener = rawRedis();
    const seen: string[] = [];
    try {
      listener.on('message', (channel: string, message: string) => {
        const who = channel === keys.events(first.id) ? 'first' : 'second';
        seen.push(`${who} ${message.split('\n')[0]}`);
      });
      await markWatched(listener, keys.watched);
      await listener.subscribe(keys.events(first.id), keys.events(second.id));
      await app.get(TaskWorkerHost).start();
      await expect(second.result({ timeout: 5_000 })).resolves.toBe(2);
      await eventually(() => seen.length === 4);
    } finally {
      listener.disconnect();
    }
    // One slot: the first task's commit and the fetch of the second travel together; Redis must
    // run the commit first.
    expect(seen).toEqual(['first STARTED', 'first SUCCESS', 'second STARTED', 'second SUCCESS']);
  });

  it('sends the outcomes of a busy worker with its next fetch, and alone only when it fetches no more', async () => {
    app = await bootApp([EchoTasks], { worker: { concurrency: 1 } });
    const client = app.get(TaskClient);
    const keys = app.get(TaskQueueEngine).broker.keys('default');
    // Started idle, so that it waits on a connection already open when the five come at once.
    await app.get(TaskWorkerHost).start();
    await new Promise((resolve) => setTimeout(resolve, 100));

    const raw = rawRedis();
    // Ready first: ioredis fails a MONITOR connection that sees a command (this client's own
    // ready-check INFO) before it has switched to monitoring (taskforcesh/bullmq#2505).
    await raw.ping();
    const monitor = await raw.monitor();
    let carried = 0;
    let alone = 0;
    const order: string[] = [];
    try {
      // fetch.lua: 10 keys, the wait list first, 11 arguments, then 8 per outcome it commits.
      // complete.lua: 6 keys, the lease index first.
      monitor.on('monitor', (_time: string, args: string[]) => {
        const command = args[0]?.toLowerCase();
        if (command === 'blpop' && args.includes(keys.wake)) order.push('wait');
        if (command !== 'evalsha') return;
        if (args[2] === '10' && args[3] === keys.wait) carried += (args.length - 3 - 10 - 11) / 8;
        if (args[2] === '6' && args[3] === keys.active) {
          alone++;
          order.push('commit');
        }
      });
      const handles = await client.sendMany([1, 2, 3, 4, 5].map((n) => ({ name: 'order.echo', args: [n] })));
      const results = await Promise.all(handles.map((h) => h.result({ timeout: 5_000 })));
      expect(results).toEqual([1, 2, 3, 4, 5]);
      await new Promise((resolve) => setTimeout(resolve, 200));
    } finally {
      monitor.disconnect();
      raw.disconnect();
    }
    // The first of the five is handed to the idle worker by its send (see hand-off.spec.ts): its one
    // slot full, it commits that alone and waits, and the wake-up the other four left is there.
    // Then it takes one at a time: tasks 2-4 end with the next still to fetch; the fetch of task 5
    // left the queue empty, so its outcome has no fetch to ride with.
    expect({ carried, alone }).toEqual({ carried: 3, alone: 2 });
    // ...and it goes before the worker first waits for more work, not after.
    expect(order[0]).toBe('commit');
    expect(order).toContain('wait');
  });

  it('does not ask again for work when its fetch took the last ready task: it waits for news of more', async () => {
    app = await bootApp([EchoTasks], { worker: { concurrency: 1 } });
    const client = app.get(TaskClient);
    const keys = app.get(TaskQueueEngine).broker.keys('default');
    await app.get(TaskWorkerHost).start();
    await expect((await client.send('order.echo', [0])).result({ timeout: 5_000 })).resolves.toBe(0);

    const raw = rawRedis();
    // Ready first: ioredis fails a MONITOR connection that sees a command (this client's own
    // ready-check INFO) before it has switched to monitoring (taskforcesh/bullmq#2505).
    await raw.ping();
    const monitor = await raw.monitor();
    const fetches: string[] = [];
    try {
      // fetch.lua is the script called with 10 keys, the first of them the queue's wait list.
      monitor.on('monitor', (_time: string, args: string[]) => {
        if (args[0]?.toLowerCase() === 'evalsha' && args[2] === '10' && args[3] === keys.wait) fetches.push(args[0]);
      });
      // The first is handed to the idle worker (see hand-off.spec.ts); the second waits for a fetch.
      const [handed, fetched] = await client.sendMany([1, 2].map((n) => ({ name: 'order.echo', args: [n] })));
      await expect(handed?.result({ timeout: 5_000 })).resolves.toBe(1);
      await expect(fetched?.result({ timeout: 5_000 })).resolves.toBe(2);
      await new Promise((resolve) => setTimeout(resolve, 200));
    } finally {
      monitor.disconnect();
      raw.disconnect();
    }
    // Woken for the second: one fetch takes it, and it saw the queue empty behind it.
    expect(fetches).toHaveLength(1);
    await expect((await client.send('order.echo', [3])).result({ timeout: 5_000 })).resolves.toBe(3);
  });

  it('fills every slot, in both of its fetch lanes: a burst into an idle worker, and tasks sent while it is busy', async () => {
    app = await bootApp([HeldTasks], { worker: { concurrency: 6 } });
    const client = app.get(TaskClient);
    const held = app.get(HeldTasks);
    await app.get(TaskWorkerHost).start();
    // Idle, blocked in Redis: four at once (more than one lane's three slots).
    const burst = await Promise.all([1, 2, 3, 4].map(() => client.send('order.held', [])));
    await eventually(() => held.running === 4, 5_000);
    // One lane is full and the other has one task: two more sent one by one still find slots.
    const later = [await client.send('order.held', [])];
    await eventually(() => held.running === 5, 5_000);
    later.push(await client.send('order.held', []));
    await eventually(() => held.running === 6, 5_000);
    held.letGo();
    for (const handle of [...burst, ...later]) await expect(handle.result({ timeout: 5_000 })).resolves.toBeNull();
  });

  it('takes back an expired lease in a fetch that finds nothing ready, though it was not asked to sweep', async () => {
    app = await bootApp([EchoTasks]);
    const client = app.get(TaskClient);
    const { broker } = app.get(TaskQueueEngine);
    const handle = await client.send('order.echo', [3]);
    const terms = { leaseMs: 1, workerId: 'gone', maxDeliveries: 5, resultTtlSec: 60 };
    expect((await broker.fetch('default', 10, terms)).tasks.map((t) => t.id)).toEqual([handle.id]);
    await new Promise((resolve) => setTimeout(resolve, 5));

    const again = await broker.fetch('default', 10, { ...terms, workerId: 'next' }, false);
    expect(again.tasks.map((t) => [t.id, t.delivery])).toEqual([[handle.id, 2]]);
  });

  it('an idle worker, told of no new work, still takes back the task of a worker that died once its lease ran out', async () => {
    const engine = new TaskQueueEngine({ connection: testRedisUrl(), prefix: uniquePrefix(), defaultQueue: 'default', logger: quietLogger });
    try {
      const sent = await engine.producer.send('echo', [4]);
      // A worker that takes it and dies: its lease runs out in 300 ms, and nothing wakes anyone.
      const terms = { leaseMs: 300, workerId: 'died', maxDeliveries: 5, resultTtlSec: 60 };
      expect((await engine.broker.fetch('default', 10, terms)).tasks.map((t) => t.id)).toEqual([sent.id]);
      const worker = engine.createWorker(
        { get: (name: string) => ({ name, invoke: (args: unknown[]) => args[0] }) },
        { queues: ['default'], concurrency: 2, leaseMs: 5_000, shutdownGraceMs: 100, resultTtlSec: 60, maxDeliveries: 5, maxBlockMs: 500 },
        () => capturingLogger().logger,
      );
      await worker.start();
      const handle = engine.handle<number>(sent.id, async () => sent.queue);
      await expect(handle.result({ timeout: 5_000 })).resolves.toBe(4);
    } finally {
      await engine.close();
    }
  });

  it('keeps the lease index a skiplist while leases come and go, and never takes its keeper for a task', async () => {
    app = await bootApp([EchoTasks], { worker: { concurrency: 8 } });
    const client = app.get(TaskClient);
    const { active } = app.get(TaskQueueEngine).broker.keys('default');
    const handles = await Promise.all(Array.from({ length: 40 }, (_, i) => client.send('order.echo', [i])));
    await app.get(TaskWorkerHost).start();
    const results = await Promise.all(handles.map((h) => h.result({ timeout: 5_000 })));
    expect(results).toEqual(Array.from({ length: 40 }, (_, i) => i));

    const redis = rawRedis();
    try {
      // Every task's lease is gone; what is left is the keeper alone, whose score never comes due.
      expect(await leaseCount(redis, active)).toBe(0);
      const left = await redis.zrange(active, 0, -1, 'WITHSCORES');
      expect(left).toHaveLength(2);
      expect(left[1]).toBe('inf');
      expect((left[0] as string).length).toBeGreaterThan(64);
      expect(await redis.object('ENCODING', active)).toBe('skiplist');
    } finally {
      redis.disconnect();
    }
  });
});

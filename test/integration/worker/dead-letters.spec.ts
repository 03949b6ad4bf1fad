import { afterEach, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import type { TestingModule } from '@nestjs/testing';
import { Task, TaskClient, TaskFailedError, TaskQueueAdmin, TaskWorkerHost } from '../../../lib/index.js';
import { TaskQueueEngine } from '../../../lib/engine.js';
import { bootApp } from '../../support/nest-app.js';
import { eventually, rawRedis } from '../../support/test-redis.js';

@Injectable()
class GoodTasks {
  readonly seen: number[] = [];
  @Task('good.echo')
  echo(n: number): number {
    this.seen.push(n);
    return n;
  }
}

describe('dead letters', () => {
  let app: TestingModule | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function start(worker = true) {
    app = await bootApp([GoodTasks], { worker: { maxDeliveries: 2, leaseMs: 1_000 } });
    if (worker) await app.get(TaskWorkerHost).start();
    const engine = app.get(TaskQueueEngine);
    return { client: app.get(TaskClient), admin: app.get(TaskQueueAdmin), keys: engine.broker.keys('default'), engine };
  }

  it('moves malformed, body-less and unknown-task messages aside with the reason, fails their tasks, and goes on', async () => {
    const { client, admin, keys } = await start();
    const raw = rawRedis();
    try {
      await raw.hset(keys.task('garbage'), 'env', '{not json', 'st', 'PENDING');
      await raw.hset(keys.task('shape'), 'env', JSON.stringify({ v: 1, id: 'shape', task: 'good.echo' }), 'st', 'PENDING');
      await raw.rpush(keys.wait, 'garbage', 'shape', 'no-body');
      await raw.lpush(keys.wake, '1');
    } finally {
      raw.disconnect();
    }
    const unknown = await client.send('no.such.task', [1]);
    const good = await client.send('good.echo', [7]);
    await expect(good.result({ timeout: 5_000 })).resolves.toBe(7);
    const failed = (await unknown.result({ timeout: 5_000 }).catch((e: unknown) => e)) as TaskFailedError;
    expect(failed.remote).toMatchObject({ name: 'UnknownTaskError' });
    await eventually(async () => (await admin.deadLetters().count()) === 4);
    const dead = await admin.deadLetters().list();
    const byId = Object.fromEntries(dead.map((d) => [d.id, d]));
    expect(byId.garbage).toMatchObject({ reason: 'malformed', message: '{not json' });
    expect(byId.shape?.reason).toBe('malformed');
    expect(byId.shape?.detail).toContain('"queue"');
    expect(byId['no-body']).toMatchObject({ reason: 'message-missing', message: '' });
    expect(byId[unknown.id]).toMatchObject({ reason: 'unknown-task', queue: 'default' });
    expect(byId[unknown.id]?.worker).toMatch(/:\d+:/);
    expect(byId[unknown.id]?.at.getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(await client.handle('garbage').state()).toBe('FAILURE');
    expect(app!.get(TaskWorkerHost).consuming).toBe(true);
  });

  it('dead-letters a message whose workers keep dying instead of looping forever', async () => {
    const { client, admin, engine } = await start(false);
    const handle = await client.send('good.echo', [1]);
    // Two deliveries to workers that die (they never finish and their leases run out at once).
    for (let i = 0; i < 2; i++) {
      const { tasks } = await engine.broker.fetch('default', 10, { leaseMs: 1, workerId: 'doomed', maxDeliveries: 2, resultTtlSec: 60 });
      expect(tasks.map((t) => t.id)).toEqual([handle.id]);
      await new Promise((r) => setTimeout(r, 5));
    }
    await app!.get(TaskWorkerHost).start();
    const err = (await handle.result({ timeout: 5_000 }).catch((e: unknown) => e)) as TaskFailedError;
    expect(err.remote.name).toBe('MaxDeliveriesExceeded');
    expect(app!.get(GoodTasks).seen).toEqual([]);
    expect(await admin.deadLetters().list()).toEqual([expect.objectContaining({ id: handle.id, reason: 'max-deliveries' })]);
  });

  it('requeues one or all dead letters as new tasks, and purges them', async () => {
    const { client, admin, keys } = await start(false);
    const raw = rawRedis();
    try {
      await raw.hset(keys.task('missing'), 'st', 'PENDING');
      await raw.rpush(keys.wait, 'missing');
    } finally {
      raw.disconnect();
    }
    const a = await client.send('good.echo', [1], { queue: 'default', headers: { route: 'x' } });
    const b = await client.send('good.echo', [2]);
    // Deliver both to a worker that has no handlers: they become unknown-task dead letters.
    const engine = app!.get(TaskQueueEngine);
    const blind = engine.createWorker({ get: () => undefined }, { queues: ['default'], concurrency: 10, leaseMs: 5_000, shutdownGraceMs: 100, resultTtlSec: 60, maxDeliveries: 5 }, () => ({ log() {}, error() {}, warn() {}, debug() {}, verbose() {} }));
    blind.start();
    await eventually(async () => (await admin.deadLetters().count()) === 3);
    await blind.close();

    const dead = admin.deadLetters('default');
    expect(await dead.requeue(a.id)).toBe(true);
    expect(await dead.requeue('not-there')).toBe(false);
    await app!.get(TaskWorkerHost).start();
    await expect(a.result({ timeout: 5_000 })).resolves.toBe(1);
    expect(await dead.count()).toBe(2);
    // requeueAll takes b; the body-less one cannot run and stays.
    expect(await dead.requeueAll()).toBe(1);
    await expect(b.result({ timeout: 5_000 })).resolves.toBe(2);
    expect((await dead.list()).map((d) => d.id)).toEqual(['missing']);
    expect(await dead.purge()).toBe(1);
    expect(await dead.count()).toBe(0);
  });
});

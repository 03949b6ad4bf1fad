// A task's record through its life: a plain task waiting to run is its message alone; a worker
// writes its hash when it takes it; the commit writes name and creation time there, so that
// they outlive the message. Every path that ends a task keeps them.
import { afterEach, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import type { TestingModule } from '@nestjs/testing';
import { firstValueFrom } from 'rxjs';
import { Task, TaskClient, TaskFailedError, TaskWorkerHost } from '../../../lib/index.js';
import { TaskQueueEngine } from '../../../lib/engine.js';
import { bootApp } from '../../support/nest-app.js';
import { eventually, rawRedisForEachTest } from '../../support/test-redis.js';

@Injectable()
class RecordTasks {
  @Task('record.echo')
  echo(n: number): number {
    return n;
  }

  @Task('record.fail')
  fail(): never {
    throw new Error('no');
  }

  @Task('record.nothing')
  nothing(): void {}

  @Task('record.hold')
  async hold(ms: number): Promise<string> {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return 'held';
  }
}

describe('task record: hash and message through a task life', () => {
  let app: TestingModule | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });
  const raw = rawRedisForEachTest();

  it('a plain task waits as its message alone, and its snapshot still names it and its sending time', async () => {
    app = await bootApp([RecordTasks]);
    const client = app.get(TaskClient);
    const keys = app.get(TaskQueueEngine).broker.keys('default');
    const before = Date.now();
    const handle = await client.send('record.echo', [1]);
    const redis = raw();
    expect(await redis.exists(keys.task(handle.id))).toBe(0);
    expect(await redis.hexists(keys.messages, handle.id)).toBe(1);

    const pending = await handle.snapshot();
    expect(pending).toMatchObject({ state: 'PENDING', task: 'record.echo', deliveries: 0 });
    expect(pending.createdAt?.getTime()).toBeGreaterThanOrEqual(before);
    expect(pending.createdAt?.getTime()).toBeLessThanOrEqual(Date.now());
    // A handle made from the id alone finds the task's queue by its message.
    expect(await client.handle(handle.id).queue()).toBe('default');

    await app.get(TaskWorkerHost).start();
    await expect(handle.result({ timeout: 5_000 })).resolves.toBe(1);
    expect(await redis.hexists(keys.messages, handle.id)).toBe(0);
    const done = await handle.snapshot();
    expect(done).toMatchObject({ state: 'SUCCESS', task: 'record.echo', result: 1, deliveries: 1 });
    expect(done.createdAt).toEqual(pending.createdAt);
    expect(done.startedAt?.getTime()).toBeGreaterThanOrEqual(pending.createdAt?.getTime() ?? 0);
    expect(await redis.hget(keys.task(handle.id), 'tok')).toBe('');
  });

  it('a task that returns nothing stores no result field, and reads as null', async () => {
    app = await bootApp([RecordTasks]);
    const client = app.get(TaskClient);
    const keys = app.get(TaskQueueEngine).broker.keys('default');
    const nothing = await client.send('record.nothing', []);
    const zero = await client.send('record.echo', [0]);
    await app.get(TaskWorkerHost).start();
    await expect(nothing.result({ timeout: 5_000 })).resolves.toBeNull();
    await expect(zero.result({ timeout: 5_000 })).resolves.toBe(0);
    const redis = raw();
    expect(await redis.hexists(keys.task(nothing.id), 'res')).toBe(0);
    expect(await redis.hget(keys.task(zero.id), 'res')).toBe('0');
    expect(await nothing.snapshot()).toMatchObject({ state: 'SUCCESS', result: null, task: 'record.nothing' });
    // A stream of a finished task reads it from the hash too.
    expect(await firstValueFrom(nothing.events$)).toMatchObject({ state: 'SUCCESS', result: null });
  });

  it('a running task reads STARTED with the name from its message', async () => {
    app = await bootApp([RecordTasks]);
    const client = app.get(TaskClient);
    const handle = await client.send('record.hold', [500]);
    await app.get(TaskWorkerHost).start();
    await eventually(async () => (await handle.state()) === 'STARTED');
    expect(await handle.snapshot()).toMatchObject({ state: 'STARTED', task: 'record.hold', deliveries: 1 });
    await expect(handle.result({ timeout: 5_000 })).resolves.toBe('held');
  });

  it('keeps name and creation time on every end: failure, revoke of a waiting task, expiry', async () => {
    app = await bootApp([RecordTasks]);
    const client = app.get(TaskClient);
    const failed = await client.send('record.fail', []);
    const revoked = await client.send('record.echo', [2], { countdown: 60_000 });
    const expired = await client.send('record.echo', [3], { expires: 1 });
    const created = (await revoked.snapshot()).createdAt;
    expect(await revoked.revoke()).toBe('revoked');
    await new Promise((resolve) => setTimeout(resolve, 20)); // past the expiry
    await app.get(TaskWorkerHost).start();
    await expect(failed.result({ timeout: 5_000 })).rejects.toThrow(TaskFailedError);
    await eventually(async () => (await expired.state()) === 'REVOKED');

    expect(await failed.snapshot()).toMatchObject({ state: 'FAILURE', task: 'record.fail' });
    expect(await revoked.snapshot()).toMatchObject({ state: 'REVOKED', task: 'record.echo', createdAt: created });
    expect(await expired.snapshot()).toMatchObject({ state: 'REVOKED', task: 'record.echo' });
    for (const h of [failed, revoked, expired]) expect((await h.snapshot()).createdAt).toBeInstanceOf(Date);
  });

  it('a chosen taskId is enqueued once, whether the first send still waits or has finished', async () => {
    app = await bootApp([RecordTasks]);
    const client = app.get(TaskClient);
    const first = await client.send('record.echo', [1], { taskId: 'chosen-1' });
    const again = await client.send('record.echo', [2], { taskId: 'chosen-1' });
    expect(again.id).toBe(first.id);
    await app.get(TaskWorkerHost).start();
    await expect(first.result({ timeout: 5_000 })).resolves.toBe(1);
    await client.send('record.echo', [3], { taskId: 'chosen-1' });
    expect(await raw().hexists(app.get(TaskQueueEngine).broker.keys('default').messages, 'chosen-1')).toBe(0);
    await expect(first.result({ timeout: 1_000 })).resolves.toBe(1);
  });
});

import { afterEach, describe, expect, it } from '@jest/globals';
import { Test, type TestingModule } from '@nestjs/testing';
import { filter, firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import {
  TaskClient,
  TaskFailedError,
  TaskQueueModule,
  TaskRegistry,
  TaskTimeoutError,
  TaskWorkerHost,
  NotSerializableError,
  type TaskEvent,
} from '../../../lib/index.js';
import { testRedisUrl, uniquePrefix } from '../../support/test-redis.js';
import { MathTasks, Multiplier } from './fixtures.js';

async function boot(prefix = uniquePrefix()): Promise<TestingModule> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      TaskQueueModule.forRoot({
        connection: testRedisUrl(),
        prefix,
        worker: { concurrency: 4, queues: ['default', 'slow'], shutdownGraceMs: 2_000 },
      }),
    ],
    providers: [MathTasks, Multiplier],
  }).compile();
  moduleRef.useLogger(false);
  await moduleRef.init();
  return moduleRef;
}

describe('TaskQueueModule with a worker in the same process', () => {
  let moduleRef: TestingModule | undefined;
  afterEach(async () => {
    await moduleRef?.close();
    moduleRef = undefined;
  });

  it('discovers @Task methods under their names and queues', async () => {
    moduleRef = await boot();
    const names = moduleRef.get(TaskRegistry).all().map((t) => `${t.name}@${t.queue ?? '-'}${t.takesContext ? '+ctx' : ''}`);
    expect(names).toEqual(
      expect.arrayContaining(['MathTasks.add@-', 'math.scale@-', 'math.steps@slow+ctx', 'math.sleep@-+ctx']),
    );
  });

  it('runs tasks with the providers\' injected dependencies and returns typed results', async () => {
    moduleRef = await boot();
    await moduleRef.get(TaskWorkerHost).start();
    const client = moduleRef.get(TaskClient);
    const sum = await client.call(MathTasks, 'add', [5, 3]);
    const scaled = await client.send('math.scale', [4]);
    await expect(sum.result({ timeout: 5_000 })).resolves.toBe(8);
    await expect(scaled.result({ timeout: 5_000 })).resolves.toBe(40);
    expect(await sum.state()).toBe('SUCCESS');
  });

  it('passes a TaskContext last and streams progress through events$', async () => {
    moduleRef = await boot();
    await moduleRef.get(TaskWorkerHost).start();
    const handle = await moduleRef.get(TaskClient).call(MathTasks, 'steps', [3]);
    expect(await handle.queue()).toBe('slow');
    const events: TaskEvent[] = await lastValueFrom(handle.events$.pipe(toArray()));
    const states = events.map((e) => e.state);
    expect(states[states.length - 1]).toBe('SUCCESS');
    expect(events.filter((e) => e.state === 'PROGRESS').map((e) => e.progress)).toEqual([
      { current: 1, total: 3 },
      { current: 2, total: 3 },
      { current: 3, total: 3 },
    ]);
    expect(events[events.length - 1]?.result).toBe(`math.steps ${handle.id} attempt 1 done`);
    expect(await handle.info()).toBe(`math.steps ${handle.id} attempt 1 done`);
  });

  it('places the context right even when optional arguments are left out', async () => {
    moduleRef = await boot();
    await moduleRef.get(TaskWorkerHost).start();
    const client = moduleRef.get(TaskClient);
    await expect((await client.send('math.optionalCtx', [])).result({ timeout: 5_000 })).resolves.toBe('none true');
    await expect((await client.send('math.optionalCtx', [7])).result({ timeout: 5_000 })).resolves.toBe('7 true');
  });

  it('reports a failure with the remote error name, message, code and stack', async () => {
    moduleRef = await boot();
    await moduleRef.get(TaskWorkerHost).start();
    const handle = await moduleRef.get(TaskClient).send('math.fail', ['too big']);
    const err = await handle.result({ timeout: 5_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskFailedError);
    const failed = err as TaskFailedError;
    expect(failed.remoteName).toBe('RangeError');
    expect(failed.remoteMessage).toBe('too big');
    expect(failed.remote.code).toBe('E_RANGE');
    expect(failed.remoteStack).toContain('MathTasks.fail');
    expect(await handle.state()).toBe('FAILURE');
    expect(await handle.info()).toMatchObject({ name: 'RangeError', message: 'too big' });
  });

  it('survives handlers that throw non-errors or return what JSON cannot carry', async () => {
    moduleRef = await boot();
    await moduleRef.get(TaskWorkerHost).start();
    const client = moduleRef.get(TaskClient);
    const thrown = await (await client.send('math.throwString')).result({ timeout: 5_000 }).catch((e: unknown) => e);
    expect((thrown as TaskFailedError).remote).toMatchObject({ name: 'NonErrorThrown', message: 'plain string' });
    const bad = await (await client.send('math.badResult')).result({ timeout: 5_000 }).catch((e: unknown) => e);
    expect((bad as TaskFailedError).remote).toMatchObject({ name: 'NotSerializableError' });
    // and the worker still consumes
    await expect((await client.call(MathTasks, 'add', [1, 1])).result({ timeout: 5_000 })).resolves.toBe(2);
    expect(moduleRef.get(TaskWorkerHost).consuming).toBe(true);
  });

  it('rejects non-JSON arguments before anything reaches Redis', async () => {
    moduleRef = await boot();
    const client = moduleRef.get(TaskClient);
    await expect(client.send('math.scale', [() => 1])).rejects.toThrow(NotSerializableError);
    await expect(client.send('math.scale', [10n])).rejects.toThrow(/args\[0\] is a BigInt/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expect(client.send('math.scale', [cyclic])).rejects.toThrow(/args\[0\]\.self refers back/);
    await expect(client.send('math.scale', [[1, undefined]])).rejects.toThrow(/args\[0\]\[1\] is undefined/);
  });

  it('an app that did not start a worker only sends: tasks stay PENDING', async () => {
    moduleRef = await boot();
    const handle = await moduleRef.get(TaskClient).call(MathTasks, 'add', [1, 2]);
    const err = await handle.result({ timeout: 300 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskTimeoutError);
    expect((err as TaskTimeoutError).lastState).toBe('PENDING');
    expect(await handle.state()).toBe('PENDING');
  });

  it('finds a task by id alone across the queues it knows, and reads unknown ids as PENDING', async () => {
    moduleRef = await boot();
    await moduleRef.get(TaskWorkerHost).start();
    const client = moduleRef.get(TaskClient);
    const sent = await client.call(MathTasks, 'steps', [1]);
    await sent.result({ timeout: 5_000 });
    const byId = client.handle<string>(sent.id);
    expect(await byId.queue()).toBe('slow');
    expect(await byId.state()).toBe('SUCCESS');
    expect(await client.handle('no-such-id').state()).toBe('PENDING');
  });

  it('a repeated taskId returns the existing task instead of enqueuing twice', async () => {
    moduleRef = await boot();
    const client = moduleRef.get(TaskClient);
    const first = await client.call(MathTasks, 'add', [1, 2], { taskId: 'fixed-id' });
    const second = await client.call(MathTasks, 'add', [100, 200], { taskId: 'fixed-id' });
    expect(second.id).toBe(first.id);
    await moduleRef.get(TaskWorkerHost).start();
    await expect(second.result({ timeout: 5_000 })).resolves.toBe(3);
  });

  it('drains running tasks on shutdown before closing connections', async () => {
    const prefix = uniquePrefix();
    moduleRef = await boot(prefix);
    await moduleRef.get(TaskWorkerHost).start();
    const handle = await moduleRef.get(TaskClient).send('math.sleep', [300]);
    await waitForState(moduleRef, handle.id, 'STARTED');
    await moduleRef.close();
    // A fresh app (no worker) reads what the draining worker committed.
    moduleRef = await boot(prefix);
    expect(await moduleRef.get(TaskClient).handle(handle.id).snapshot()).toMatchObject({ state: 'SUCCESS', result: 'slept' });
  });

  it('gives tasks that outlive the grace period back to the queue at once, for another worker', async () => {
    const prefix = uniquePrefix();
    moduleRef = await boot(prefix);
    await moduleRef.get(TaskWorkerHost).start({ shutdownGraceMs: 100 });
    const handle = await moduleRef.get(TaskClient).send('math.sleep', [60_000]);
    await waitForState(moduleRef, handle.id, 'STARTED');
    const started = Date.now();
    await moduleRef.close();
    expect(Date.now() - started).toBeLessThan(5_000);
    moduleRef = await boot(prefix);
    const again = moduleRef.get(TaskClient).handle(handle.id);
    expect(await again.state()).toBe('PENDING');
    // The next worker takes it straight away, not after a lease timeout; it is delivered a second time.
    await moduleRef.get(TaskWorkerHost).start();
    await waitForState(moduleRef, handle.id, 'STARTED');
    expect((await again.snapshot()).deliveries).toBe(2);
  });
});

async function waitForState(moduleRef: TestingModule, id: string, state: string): Promise<void> {
  const handle = moduleRef.get(TaskClient).handle(id);
  await firstValueFrom(handle.events$.pipe(filter((e) => e.state === state)));
}

describe('bulk send and ignoreResult', () => {
  it('sendMany enqueues a batch in one call and every task runs', async () => {
    const moduleRef = await boot();
    try {
      const client = moduleRef.get(TaskClient);
      const handles = await client.sendMany(
        Array.from({ length: 50 }, (_, i) => ({ name: 'MathTasks.add', args: [i, 1] })),
      );
      await moduleRef.get(TaskWorkerHost).start();
      const results = await Promise.all(handles.map((h) => h.result({ timeout: 10_000 })));
      expect(results).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      await expect(client.sendMany([{ name: 'MathTasks.add', args: [1] }, { name: 'x', args: [() => 1] }])).rejects.toThrow(
        NotSerializableError,
      );
    } finally {
      await moduleRef.close();
    }
  });

  it('a task with ignoreResult leaves nothing behind once it succeeds', async () => {
    const prefix = uniquePrefix();
    const moduleRef = await boot(prefix);
    try {
      await moduleRef.get(TaskWorkerHost).start();
      const handle = await moduleRef.get(TaskClient).send('math.quiet', [1]);
      const events = await lastValueFrom(handle.events$.pipe(toArray()));
      expect(events[events.length - 1]?.state).toBe('SUCCESS');
      expect(await handle.state()).toBe('PENDING'); // nothing kept: reads like an unknown id
    } finally {
      await moduleRef.close();
    }
  });
});

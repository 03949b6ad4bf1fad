import { afterEach, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import type { TestingModule } from '@nestjs/testing';
import { filter, firstValueFrom } from 'rxjs';
import {
  SoftTimeLimitExceeded,
  Task,
  TaskClient,
  TaskContext,
  TaskFailedError,
  TaskQueueAdmin,
  TaskRevokedError,
  TaskWorkerHost,
  type TaskQueueModuleOptions,
} from '../../../lib/index.js';
import { bootApp } from '../../support/nest-app.js';
import { uniquePrefix } from '../../support/test-redis.js';

@Injectable()
class Journal {
  readonly started: string[] = [];
  readonly cleanedUp: string[] = [];
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });
}

@Injectable()
class ControlTasks {
  constructor(private readonly journal: Journal) {}

  @Task('ctl.note')
  note(label: string): string {
    this.journal.started.push(label);
    return label;
  }

  @Task({ name: 'ctl.slowNote', queue: 'slow' })
  async slowNote(label: string): Promise<string> {
    this.journal.started.push(label);
    await sleep(150);
    return label;
  }

  @Task('ctl.wait')
  async wait(ms: number, ctx: TaskContext): Promise<string> {
    this.journal.started.push(ctx.id);
    try {
      await sleep(ms, ctx.signal);
      return 'finished';
    } finally {
      if (ctx.signal.aborted) this.journal.cleanedUp.push(`${ctx.id}:${(ctx.signal.reason as Error).name}`);
    }
  }

  @Task({ name: 'ctl.soft', softTimeLimit: 100 })
  async soft(ctx: TaskContext): Promise<string> {
    try {
      await sleep(10_000, ctx.signal);
      return 'never';
    } catch (err) {
      if (err instanceof SoftTimeLimitExceeded) return 'cleaned up in time';
      throw err;
    }
  }

  @Task({ name: 'ctl.hard', timeLimit: 150 })
  async hard(): Promise<string> {
    await sleep(1_000); // ignores every signal
    return 'too late';
  }
}

describe('calling options, revoke, time limits, pause and queues', () => {
  let worker: TestingModule | undefined;
  let sender: TestingModule | undefined;
  afterEach(async () => {
    await worker?.close();
    await sender?.close();
    worker = sender = undefined;
  });

  /** A sending app and a worker app on the same prefix: two "processes" as far as Redis can tell. */
  async function apps(options: Partial<TaskQueueModuleOptions> = {}, startWorker = true) {
    const prefix = uniquePrefix();
    const both = { prefix, worker: { queues: ['default', 'slow'], concurrency: 4 }, ...options };
    sender = await bootApp([Journal, ControlTasks], both);
    worker = await bootApp([Journal, ControlTasks], both);
    if (startWorker) await worker.get(TaskWorkerHost).start();
    return { client: sender.get(TaskClient), admin: sender.get(TaskQueueAdmin), journal: worker.get(Journal), prefix };
  }

  it('countdown and eta: not run before they are due, then run without polling', async () => {
    const { client } = await apps();
    const sentAt = Date.now();
    const a = await client.send('ctl.note', ['countdown'], { countdown: 400 });
    const b = await client.send('ctl.note', ['eta'], { eta: new Date(sentAt + 600) });
    expect(await a.state()).toBe('PENDING');
    await expect(a.result({ timeout: 5_000 })).resolves.toBe('countdown');
    await expect(b.result({ timeout: 5_000 })).resolves.toBe('eta');
    expect((await a.snapshot()).startedAt!.getTime()).toBeGreaterThanOrEqual(sentAt + 400);
    expect((await b.snapshot()).startedAt!.getTime()).toBeGreaterThanOrEqual(sentAt + 600);
  });

  it('countdown: a worker that never runs out of ready work still starts a delayed task once it is due', async () => {
    const { client, journal } = await apps();
    // ~1.5 s of back-to-back work at concurrency 4: the worker never waits for work meanwhile.
    const stream = await client.sendMany(Array.from({ length: 40 }, (_, i) => ({ name: 'ctl.slowNote', args: [`busy-${i}`] })));
    // Top priority: once promoted it is the next task taken, so when it starts shows when it was promoted.
    const delayed = await client.send('ctl.note', ['delayed'], { countdown: 200, queue: 'slow', priority: 9 });
    await expect(delayed.result({ timeout: 5_000 })).resolves.toBe('delayed');
    await Promise.all(stream.map((h) => h.result({ timeout: 10_000 })));
    // Due after ~200 ms, when about 8 of the 40 have started; not after the queue drained.
    const at = journal.started.indexOf('delayed');
    expect(at).toBeGreaterThanOrEqual(4);
    expect(at).toBeLessThan(20);
  });

  it('expires: a task not started in time never runs and ends REVOKED (expired)', async () => {
    const { client, journal } = await apps({}, false);
    const late = await client.send('ctl.note', ['late'], { expires: 50 });
    const lateDelayed = await client.send('ctl.note', ['late-delayed'], { countdown: 300, expires: new Date(Date.now() + 100) });
    const fine = await client.send('ctl.note', ['fine'], { expires: 60_000 });
    await sleep(120);
    await worker!.get(TaskWorkerHost).start();
    await expect(fine.result({ timeout: 5_000 })).resolves.toBe('fine');
    const err = await late.result({ timeout: 5_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskRevokedError);
    expect((err as Error).message).toContain('expired');
    await expect(lateDelayed.result({ timeout: 5_000 })).rejects.toThrow(/expired/);
    expect(await late.state()).toBe('REVOKED');
    expect(journal.started).toEqual(['fine']);
  });

  it('priority: higher levels first, FIFO within a level', async () => {
    const { client, admin, journal } = await apps({ worker: { concurrency: 1 } });
    await admin.pause();
    const order: [string, number][] = [['a0', 0], ['b5', 5], ['c0', 0], ['d9', 9], ['e5', 5], ['f9', 9], ['g1', 1]];
    const handles = [];
    for (const [label, priority] of order) handles.push(await client.send('ctl.note', [label], { priority }));
    await admin.resume();
    await Promise.all(handles.map((h) => h.result({ timeout: 5_000 })));
    expect(journal.started).toEqual(['d9', 'f9', 'b5', 'e5', 'g1', 'a0', 'c0']);
    await expect(client.send('ctl.note', ['x'], { priority: 10 })).rejects.toThrow(/priority/);
  });

  it('pause: a paused queue is not consumed, sending still works; resume wakes a worker at once', async () => {
    const { client, admin, journal } = await apps();
    await admin.pause();
    expect(await admin.isPaused()).toBe(true);
    const handle = await client.send('ctl.note', ['while paused']);
    await sleep(300);
    expect(await handle.state()).toBe('PENDING');
    expect(journal.started).toEqual([]);
    await admin.resume();
    await expect(handle.result({ timeout: 2_000 })).resolves.toBe('while paused');
  });

  it('routes a send to another queue, and a worker consumes only its queues', async () => {
    const { client, journal, prefix } = await apps({ worker: { queues: ['default'] } });
    const routed = await client.send('ctl.note', ['to slow'], { queue: 'slow' });
    const byTask = await client.send('ctl.slowNote', ['slow by default']);
    expect(await routed.queue()).toBe('slow');
    expect(await byTask.queue()).toBe('slow');
    await sleep(300);
    expect(journal.started).toEqual([]);
    await worker!.get(TaskWorkerHost).stop();
    const other = await bootApp([Journal, ControlTasks], { prefix, worker: { queues: ['slow'] } });
    try {
      await other.get(TaskWorkerHost).start();
      await expect(routed.result({ timeout: 5_000 })).resolves.toBe('to slow');
      await expect(byTask.result({ timeout: 5_000 })).resolves.toBe('slow by default');
    } finally {
      await other.close();
    }
  });

  it('per-queue concurrency: at most N from one queue while other queues go on', async () => {
    const { client, journal } = await apps({ worker: { queues: ['slow', 'default'], concurrency: 4, queueConcurrency: { slow: 1 } } });
    const slow = await client.sendMany(['s1', 's2', 's3'].map((l) => ({ name: 'ctl.slowNote', args: [l] })));
    const quick = await client.send('ctl.note', ['quick']);
    await expect(quick.result({ timeout: 2_000 })).resolves.toBe('quick');
    const snapshots = await Promise.all(
      slow.map(async (h) => {
        await h.result({ timeout: 5_000 });
        return h.snapshot();
      }),
    );
    // One at a time: each slow task started after the previous one finished.
    const spans = snapshots.map((s) => [s.startedAt!.getTime(), s.doneAt!.getTime()] as const).sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1]);
    expect(journal.started.indexOf('quick')).toBeLessThan(journal.started.indexOf('s3'));
  });

  it('revoke: a pending or delayed task never runs; an unknown id is refused when it arrives', async () => {
    const { client, journal } = await apps({}, false);
    const pending = await client.send('ctl.note', ['pending']);
    const delayed = await client.send('ctl.note', ['delayed'], { countdown: 200 });
    expect(await pending.revoke()).toBe('revoked');
    expect(await client.revoke(delayed.id, { reason: 'changed my mind' })).toBe('revoked');
    expect(await client.revoke('future-id')).toBe('revoked');
    const future = await client.send('ctl.note', ['future'], { taskId: 'future-id' });
    const canary = await client.send('ctl.note', ['canary'], { countdown: 300 });
    await worker!.get(TaskWorkerHost).start();
    await expect(canary.result({ timeout: 5_000 })).resolves.toBe('canary');
    expect(journal.started).toEqual(['canary']);
    await expect(delayed.result()).rejects.toThrow(/changed my mind/);
    expect(await pending.state()).toBe('REVOKED');
    expect(await future.state()).toBe('REVOKED');
    expect(await pending.revoke()).toBe('final');
  });

  it('revoke with terminate aborts a running task from another process, ends it REVOKED and frees its slot', async () => {
    const { client, journal } = await apps({ worker: { concurrency: 1 } });
    const running = await client.send('ctl.wait', [60_000]);
    await firstValueFrom(running.events$.pipe(filter((e) => e.state === 'STARTED')));
    const next = await client.send('ctl.note', ['after']);
    expect(await running.revoke({ terminate: true, reason: 'user cancelled' })).toBe('running');
    await expect(running.result({ timeout: 5_000 })).rejects.toThrow(TaskRevokedError);
    expect(await running.info()).toMatchObject({ name: 'TaskRevokedError', message: 'user cancelled' });
    await expect(next.result({ timeout: 5_000 })).resolves.toBe('after');
    expect(journal.cleanedUp).toEqual([`${running.id}:TaskRevokedError`]);
  });

  it('soft time limit: the signal aborts with SoftTimeLimitExceeded and the task can finish cleanly', async () => {
    const { client } = await apps();
    await expect((await client.send('ctl.soft')).result({ timeout: 5_000 })).resolves.toBe('cleaned up in time');
  });

  it('hard time limit: FAILURE with TimeLimitExceeded, and the slot is free for the next task', async () => {
    const { client } = await apps({ worker: { concurrency: 1 } });
    const stuck = await client.send('ctl.hard');
    const next = await client.send('ctl.note', ['next']);
    const err = (await stuck.result({ timeout: 5_000 }).catch((e: unknown) => e)) as TaskFailedError;
    expect(err).toBeInstanceOf(TaskFailedError);
    expect(err.remoteName).toBe('TimeLimitExceeded');
    await expect(next.result({ timeout: 2_000 })).resolves.toBe('next');
  });

  it('worker-wide default time limits apply to tasks that set none', async () => {
    const { client } = await apps({ worker: { queues: ['default'], timeLimit: 100 } });
    const err = (await (await client.send('ctl.wait', [1_000])).result({ timeout: 5_000 }).catch((e: unknown) => e)) as TaskFailedError;
    expect(err.remoteName).toBe('TimeLimitExceeded');
  });
});

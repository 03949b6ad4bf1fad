import { afterEach, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import type { TestingModule } from '@nestjs/testing';
import { filter, firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { Task, TaskClient, TaskContext, TaskFailedError, TaskQueueAdmin, TaskWorkerHost } from '../../../lib/index.js';
import { bootApp } from '../../support/nest-app.js';

class TransientError extends Error {
  override name = 'TransientError';
}
class FatalError extends Error {
  override name = 'FatalError';
}

/** Counts runs per key so a test can see how often a task ran. */
@Injectable()
class RunLog {
  readonly runs = new Map<string, number>();
  hit(key: string): number {
    const n = (this.runs.get(key) ?? 0) + 1;
    this.runs.set(key, n);
    return n;
  }
}

@Injectable()
class FlakyTasks {
  constructor(private readonly log: RunLog) {}

  @Task({ name: 'flaky.untilThird', retry: { max: 5, delay: 50, jitter: false } })
  untilThird(key: string, ctx: TaskContext): string {
    const run = this.log.hit(key);
    if (run < 3) throw new TransientError(`run ${run} failed`);
    return `ok on attempt ${ctx.attempt} after ${ctx.retries} retries`;
  }

  @Task({ name: 'flaky.always', retry: { max: 2, delay: 20, backoff: 'exponential', jitter: false } })
  always(key: string): never {
    throw new TransientError(`run ${this.log.hit(key)} failed`);
  }

  @Task({ name: 'flaky.onlyTransient', retry: { max: 3, delay: 20, retryOn: [TransientError], noRetryOn: ['FatalError'] } })
  onlyTransient(key: string, kind: 'transient' | 'fatal' | 'type'): never {
    this.log.hit(key);
    if (kind === 'fatal') throw new FatalError('fatal');
    if (kind === 'type') throw new TypeError('not listed');
    throw new TransientError('transient');
  }

  @Task('flaky.asks')
  asks(key: string, ctx: TaskContext): string {
    const run = this.log.hit(key);
    if (run === 1) return ctx.retry({ countdown: 30, error: new TransientError('not yet') });
    return `run ${run}`;
  }

  @Task('flaky.asksForever')
  asksForever(key: string, ctx: TaskContext): never {
    this.log.hit(key);
    return ctx.retry({ countdown: 10 });
  }

  @Task({ name: 'flaky.toDeadLetters', retry: { max: 1, delay: 10, deadLetter: true } })
  toDeadLetters(): never {
    throw new TransientError('keeps failing');
  }

  @Task({ name: 'flaky.slowRetry', retry: { max: 1, delay: 60_000, jitter: false } })
  slowRetry(): never {
    throw new TransientError('try again in a minute');
  }
}

describe('retries', () => {
  let app: TestingModule | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function start() {
    app = await bootApp([RunLog, FlakyTasks]);
    await app.get(TaskWorkerHost).start({ concurrency: 4 });
    return { client: app.get(TaskClient), log: app.get(RunLog) };
  }

  it('retries a failing task until it succeeds, showing RETRY on the way', async () => {
    const { client, log } = await start();
    const handle = await client.send('flaky.untilThird', ['a']);
    const states = (await lastValueFrom(handle.events$.pipe(toArray()))).map((e) => e.state);
    expect(states.filter((s) => s === 'RETRY')).toHaveLength(2);
    expect(states[states.length - 1]).toBe('SUCCESS');
    expect(await handle.result()).toBe('ok on attempt 3 after 2 retries');
    expect(log.runs.get('a')).toBe(3);
  });

  it('fails after the last retry with the error and the counts', async () => {
    const { client, log } = await start();
    const handle = await client.send('flaky.always', ['b']);
    const err = (await handle.result({ timeout: 5_000 }).catch((e: unknown) => e)) as TaskFailedError;
    expect(err).toBeInstanceOf(TaskFailedError);
    expect(err.remote).toMatchObject({ name: 'TransientError', message: 'run 3 failed', attempts: 3, retries: 2 });
    expect(log.runs.get('b')).toBe(3);
    expect((await handle.snapshot()).retries).toBe(2);
  });

  it('shows the last error, the retry count and the next run time in RETRY', async () => {
    const { client } = await start();
    const handle = await client.send('flaky.slowRetry');
    await firstValueFrom(handle.events$.pipe(filter((e) => e.state === 'RETRY')));
    const info = (await handle.info()) as { error: { name: string }; retries: number; nextRunAt: Date };
    expect(info.error.name).toBe('TransientError');
    expect(info.retries).toBe(1);
    expect(info.nextRunAt.getTime()).toBeGreaterThan(Date.now() + 50_000);
    expect(await handle.state()).toBe('RETRY');
  });

  it('retries only what retryOn allows and never what noRetryOn names', async () => {
    const { client, log } = await start();
    const results = await Promise.all(
      (['transient', 'fatal', 'type'] as const).map(async (kind) =>
        (await client.send('flaky.onlyTransient', [kind, kind])).result({ timeout: 5_000 }).catch((e: unknown) => e),
      ),
    );
    expect(results.every((r) => r instanceof TaskFailedError)).toBe(true);
    expect(log.runs.get('transient')).toBe(4);
    expect(log.runs.get('fatal')).toBe(1);
    expect(log.runs.get('type')).toBe(1);
  });

  it('ctx.retry() schedules another run, within a default budget of 3 retries', async () => {
    const { client, log } = await start();
    await expect((await client.send('flaky.asks', ['c'])).result({ timeout: 5_000 })).resolves.toBe('run 2');
    const forever = await client.send('flaky.asksForever', ['d']);
    const err = (await forever.result({ timeout: 5_000 }).catch((e: unknown) => e)) as TaskFailedError;
    expect(err.remote).toMatchObject({ retries: 3, attempts: 4 });
    expect(log.runs.get('d')).toBe(4);
  });

  it('puts a task that ran out of retries in the dead letters when it asks to', async () => {
    const { client } = await start();
    const handle = await client.send('flaky.toDeadLetters');
    await expect(handle.result({ timeout: 5_000 })).rejects.toThrow(TaskFailedError);
    const dead = await app!.get(TaskQueueAdmin).deadLetters().list();
    expect(dead).toEqual([expect.objectContaining({ id: handle.id, reason: 'retries-exhausted', detail: 'TransientError: keeps failing' })]);
  });
});

import { afterEach, describe, expect, it, jest } from '@jest/globals';
import type { TestingModule } from '@nestjs/testing';
import {
  TaskClient,
  TaskFailedError,
  TaskRevokedError,
  TaskTimeoutError,
  TaskWorkerHost,
  type TaskHandle,
} from '../../../lib/index.js';
import { TaskQueueEngine } from '../../../lib/engine.js';
import { bootApp } from '../../support/nest-app.js';
import { eventually, rawRedis, uniquePrefix } from '../../support/test-redis.js';
import { MathTasks, Multiplier } from '../module/fixtures.js';

describe('result() through the sender\'s reply inbox', () => {
  let sender: TestingModule | undefined;
  let worker: TestingModule | undefined;
  afterEach(async () => {
    await worker?.close();
    await sender?.close();
    sender = worker = undefined;
  });

  /** A sending app and a worker app (not started) on one prefix; the sender's inbox opened. */
  async function apps() {
    const prefix = uniquePrefix();
    const options = { prefix, worker: { concurrency: 4, queues: ['default'] } };
    sender = await bootApp([MathTasks, Multiplier], options);
    worker = await bootApp([MathTasks, Multiplier], options);
    const client = sender.get(TaskClient);
    const engine = sender.get(TaskQueueEngine);
    // Waiting on a first task opens the inbox; sends from then on name it.
    const first = await client.send('MathTasks.add', [1, 2]);
    const firstResult = first.result({ timeout: 10_000 });
    await eventually(() => engine.replies.address !== undefined);
    return { client, engine, firstResult, startWorker: () => (worker as TestingModule).get(TaskWorkerHost).start() };
  }

  async function storedMessage(engine: TaskQueueEngine, handle: TaskHandle<unknown>): Promise<Record<string, unknown>> {
    const raw = rawRedis();
    try {
      return JSON.parse((await raw.hget(engine.broker.keys('default').messages, handle.id)) ?? '{}') as Record<string, unknown>;
    } finally {
      raw.disconnect();
    }
  }

  it('sends made once a process waits name its inbox, and their outcomes arrive there', async () => {
    const { client, engine, firstResult, startWorker } = await apps();
    const handles = await Promise.all([1, 2, 3].map((x) => client.send('math.scale', [x])));
    expect((await storedMessage(engine, handles[0] as TaskHandle<unknown>)).reply).toBe(engine.replies.channel);
    const results = Promise.all(handles.map((h) => h.result({ timeout: 10_000 })));

    // Waiting takes no subscription of its own: only the inbox is subscribed.
    const raw = rawRedis();
    try {
      const keys = engine.broker.keys('default');
      const [, own, , inbox] = (await raw.call('PUBSUB', 'NUMSUB', keys.events(handles[0]?.id ?? ''), engine.replies.channel)) as [
        string,
        number,
        string,
        number,
      ];
      expect([own, inbox]).toEqual([0, 1]);
    } finally {
      raw.disconnect();
    }

    await startWorker();
    await expect(results).resolves.toEqual([10, 20, 30]);
    await expect(firstResult).resolves.toBe(3);
  });

  it('failures and ignored results read the same through the inbox', async () => {
    const { client, firstResult, startWorker } = await apps();
    const failing = await client.send('math.fail', ['out of range']);
    const quiet = await client.send('math.quiet', [7]);
    const failed = failing.result({ timeout: 10_000 }).catch((e: unknown) => e);
    const ignored = quiet.result({ timeout: 10_000 });
    await startWorker();
    const err = await failed;
    expect(err).toBeInstanceOf(TaskFailedError);
    expect((err as TaskFailedError).remote).toMatchObject({ name: 'RangeError', message: 'out of range', code: 'E_RANGE' });
    await expect(ignored).resolves.toBeUndefined();
    await firstResult;
  });

  it('an outcome nobody replies to (revoked before it ran) still reaches the waiter', async () => {
    const { client, firstResult, startWorker } = await apps();
    const handle = await client.send('MathTasks.add', [5, 5]);
    const waited = handle.result({ timeout: 10_000 }).catch((e: unknown) => e);
    await handle.revoke();
    await expect(waited).resolves.toBeInstanceOf(TaskRevokedError);
    await startWorker();
    await firstResult;
  });

  it('an outcome that arrived before result() was called is kept for it', async () => {
    const { client, engine, firstResult, startWorker } = await apps();
    await startWorker();
    await firstResult;
    const handle = await client.send('MathTasks.add', [20, 22]);
    await eventually(async () => (await handle.state()) === 'SUCCESS');
    // Subscribing the task's own channel now would also find it; the inbox has it already.
    const listen = jest.spyOn(engine.subscriber, 'listen');
    await expect(handle.result({ timeout: 5_000 })).resolves.toBe(42);
    expect(listen).not.toHaveBeenCalled();
  });

  it('a wait answered by the reply stops there: the task\'s own events are not followed later', async () => {
    const { client, engine, firstResult, startWorker } = await apps();
    await startWorker();
    await firstResult;
    const listen = jest.spyOn(engine.subscriber, 'listen');
    const handle = await client.send('MathTasks.add', [1, 2]);
    await expect(handle.result({ timeout: 5_000 })).resolves.toBe(3);
    // Past the time after which an unanswered wait would follow them too (REPLY_ONLY_MS).
    await new Promise((r) => setTimeout(r, 1_200));
    expect(listen).not.toHaveBeenCalled();
  });

  it('a wait that times out on the reply alone still says the state the task is in', async () => {
    const { client, firstResult, startWorker } = await apps();
    await startWorker();
    await firstResult;
    const handle = await client.send('math.sleep', [3_000]);
    await eventually(async () => (await handle.state()) === 'STARTED');
    const err = await handle.result({ timeout: 100 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskTimeoutError);
    expect((err as TaskTimeoutError).lastState).toBe('STARTED');
    await handle.revoke({ terminate: true });
  });

  it('a worker publishes replies only to inboxes under its own prefix', async () => {
    const { client, engine, firstResult, startWorker } = await apps();
    const raw = rawRedis();
    const elsewhere = rawRedis();
    const heard: string[] = [];
    try {
      await elsewhere.subscribe('someone-else:channel');
      elsewhere.on('message', (_channel: string, message: string) => heard.push(message));
      // A hand-written message naming a foreign channel as its reply address.
      const id = 'foreign-reply';
      const keys = engine.broker.keys('default');
      const body = { v: 1, id, task: 'MathTasks.add', args: [1, 1], queue: 'default', attempt: 1, headers: {}, reply: 'someone-else:channel' };
      await raw.hset(keys.task(id), 'st', 'PENDING', 'n', 'MathTasks.add');
      await raw.hset(keys.messages, id, JSON.stringify(body));
      await raw.rpush(keys.wait, id);
      await startWorker();
      await expect(client.handle(id, { queue: 'default' }).result({ timeout: 10_000 })).resolves.toBe(2);
      await firstResult;
      expect(heard).toEqual([]);
    } finally {
      raw.disconnect();
      elsewhere.disconnect();
    }
  });
});

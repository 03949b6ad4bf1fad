import { afterEach, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import type { TestingModule } from '@nestjs/testing';
import { NotSerializableError, Task, TaskClient } from '../../../lib/index.js';
import { TaskQueueEngine } from '../../../lib/engine.js';
import { bootApp } from '../../support/nest-app.js';
import { rawRedis } from '../../support/test-redis.js';

@Injectable()
class Tasks {
  @Task('echo')
  echo(value: unknown): unknown {
    return value;
  }
}

/** The ids waiting in a queue, oldest first. */
async function waitingIds(app: TestingModule, queue: string): Promise<string[]> {
  const raw = rawRedis();
  try {
    return await raw.lrange(app.get(TaskQueueEngine).broker.keys(queue).wait, 0, -1);
  } finally {
    raw.disconnect();
  }
}

let app: TestingModule | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

describe('single sends of one turn go to Redis together', () => {
  it('keeps the order of the calls, per queue, across batches and queues', async () => {
    app = await bootApp([Tasks]);
    const client = app.get(TaskClient);
    // 300 sends in one turn: more than one batch, and two queues interleaved.
    const handles = await Promise.all(
      Array.from({ length: 300 }, (_, i) => client.send('echo', [i], { queue: i % 3 === 0 ? 'other' : 'default' })),
    );
    const idsOf = (queue: string) => handles.filter((_, i) => (i % 3 === 0) === (queue === 'other')).map((h) => h.id);
    expect(await waitingIds(app, 'default')).toEqual(idsOf('default'));
    expect(await waitingIds(app, 'other')).toEqual(idsOf('other'));
    expect(new Set(handles.map((h) => h.id)).size).toBe(300);
  });

  it('fails only the bad send of a turn; the others are enqueued', async () => {
    app = await bootApp([Tasks]);
    const client = app.get(TaskClient);
    const outcomes = await Promise.allSettled([
      client.send('echo', [1]),
      client.send('echo', [() => 1]),
      client.send('echo', [3]),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toBeInstanceOf(NotSerializableError);
    const sent = outcomes.filter((o) => o.status === 'fulfilled').map((o) => (o as PromiseFulfilledResult<{ id: string }>).value.id);
    expect(await waitingIds(app, 'default')).toEqual(sent);
  });

  it('enqueues a taskId sent twice in one turn once', async () => {
    app = await bootApp([Tasks]);
    const engine = app.get(TaskQueueEngine);
    const [first, second] = await Promise.all([
      engine.producer.send('echo', [1], { taskId: 'same-id' }),
      engine.producer.send('echo', [2], { taskId: 'same-id' }),
    ]);
    expect([first?.enqueued, second?.enqueued]).toEqual([true, false]);
    expect(await waitingIds(app, 'default')).toEqual(['same-id']);
  });
});

describe('a large sendMany goes out in slices', () => {
  it('keeps the order per queue and tells, task by task, which ones were new', async () => {
    app = await bootApp([Tasks]);
    const engine = app.get(TaskQueueEngine);
    await engine.producer.send('echo', [0], { taskId: 'existing-id' });
    // 1,100 tasks: five slices of the default queue's 1,000 and the other queue's 100 interleaved;
    // two of them repeat an id, in a later slice than the first use.
    const requests = Array.from({ length: 1_100 }, (_, i) => ({
      task: 'echo',
      args: [i],
      options: {
        queue: i % 11 === 0 ? 'other' : 'default',
        ...(i === 700 ? { taskId: 'existing-id' } : {}),
        ...(i === 3 || i === 950 ? { taskId: 'twice-id' } : {}),
      },
    }));
    const sent = await engine.producer.sendMany(requests);
    expect(sent).toHaveLength(1_100);
    expect(sent.filter((s) => !s.enqueued).map((s) => sent.indexOf(s))).toEqual([700, 950]);
    const idsOf = (queue: string) =>
      sent.filter((s, i) => s.queue === queue && s.enqueued && i !== 700).map((s) => s.id);
    expect(await waitingIds(app, 'default')).toEqual(['existing-id', ...idsOf('default')]);
    expect(await waitingIds(app, 'other')).toEqual(idsOf('other'));
  });
});

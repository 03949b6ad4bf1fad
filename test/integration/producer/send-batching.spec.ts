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

describe('single sends of one turn go to Redis together', () => {
  let app: TestingModule | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

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

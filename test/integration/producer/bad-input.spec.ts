import { afterEach, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import type { TestingModule } from '@nestjs/testing';
import {
  InvalidArgumentError,
  InvalidQueueNameError,
  PayloadTooLargeError,
  RedisUnavailableError,
  Task,
  TaskClient,
} from '../../../lib/index.js';
import { TaskQueueEngine } from '../../../lib/engine.js';
import { bootApp } from '../../support/nest-app.js';
import { quietLogger, rawRedis, uniquePrefix } from '../../support/test-redis.js';

@Injectable()
class Tasks {
  @Task('echo')
  echo(value: unknown): unknown {
    return value;
  }
}

async function waitingTasks(app: TestingModule): Promise<number> {
  const raw = rawRedis();
  try {
    return await raw.llen(app.get(TaskQueueEngine).broker.keys('default').wait);
  } finally {
    raw.disconnect();
  }
}

describe('bad input at send time: a clear error, and nothing reaches Redis', () => {
  let app: TestingModule | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('refuses payloads over maxPayloadBytes', async () => {
    app = await bootApp([Tasks], { maxPayloadBytes: 1_000 });
    const client = app.get(TaskClient);
    const err = await client.send('echo', ['x'.repeat(2_000)]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PayloadTooLargeError);
    expect((err as Error).message).toMatch(/over the 1000-byte limit \(maxPayloadBytes\)/);
    await expect(client.send('echo', ['x'.repeat(100)])).resolves.toBeDefined();
    expect(await waitingTasks(app)).toBe(1);
  });

  it('refuses queue names that would break the key layout, and bad options', async () => {
    app = await bootApp([Tasks]);
    const client = app.get(TaskClient);
    await expect(client.send('echo', [1], { queue: 'a}b' })).rejects.toThrow(InvalidQueueNameError);
    await expect(client.send('echo', [1], { queue: 'with:colon' })).rejects.toThrow(InvalidQueueNameError);
    await expect(client.send('echo', [1], { countdown: -5 })).rejects.toThrow(InvalidArgumentError);
    await expect(client.send('echo', [1], { taskId: '' })).rejects.toThrow(InvalidArgumentError);
    await expect(client.send('', [1])).rejects.toThrow(InvalidArgumentError);
    await expect(client.send('echo', 'not-an-array' as never)).rejects.toThrow(/args must be an array/);
    expect(await waitingTasks(app)).toBe(0);
  });

  it('fails a send within sendTimeout while Redis is unreachable, without buffering it', async () => {
    const engine = new TaskQueueEngine({
      connection: 'redis://:hunter2@127.0.0.1:1/0',
      prefix: uniquePrefix(),
      defaultQueue: 'default',
      logger: quietLogger,
      sendTimeoutMs: 300,
    });
    try {
      const started = Date.now();
      const err = await engine.producer.send('echo', [1]).catch((e: unknown) => e);
      const took = Date.now() - started;
      expect(err).toBeInstanceOf(RedisUnavailableError);
      expect((err as Error).message).toContain('127.0.0.1:1');
      expect((err as Error).message).not.toContain('hunter2');
      expect(took).toBeGreaterThanOrEqual(290);
      expect(took).toBeLessThan(3_000);
      // Nothing was queued for later: the client never sent a command it could buffer.
      expect((engine.connections.commands as unknown as { offlineQueue: { length: number } }).offlineQueue.length).toBe(0);
    } finally {
      await engine.close();
    }
  });
});

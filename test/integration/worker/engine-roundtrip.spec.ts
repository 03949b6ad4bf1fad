import { afterEach, describe, expect, it } from '@jest/globals';
import { TaskQueueEngine } from '../../../lib/engine.js';
import type { TaskHandler } from '../../../lib/worker/task-handler.js';
import { capturingLogger, quietLogger, testRedisUrl, uniquePrefix } from '../../support/test-redis.js';

function handlers(map: Record<string, TaskHandler['invoke']>) {
  return { get: (name: string) => (map[name] ? { name, invoke: map[name] } : undefined) };
}

describe('engine round trip', () => {
  let engine: TaskQueueEngine;
  afterEach(async () => engine?.close());

  it('runs a task sent by the producer and stores its result', async () => {
    engine = new TaskQueueEngine({ connection: testRedisUrl(), prefix: uniquePrefix(), defaultQueue: 'default', logger: quietLogger });
    const worker = engine.createWorker(
      handlers({ add: (args) => (args[0] as number) + (args[1] as number) }),
      { queues: ['default'], concurrency: 4, leaseMs: 5_000, shutdownGraceMs: 1_000, resultTtlSec: 60, maxDeliveries: 5 },
      () => capturingLogger().logger,
    );
    worker.start();
    const sent = await engine.producer.send('add', [2, 3]);
    const handle = engine.handle<number>(sent.id, async () => sent.queue);
    await expect(handle.result({ timeout: 5_000 })).resolves.toBe(5);
    expect(await handle.state()).toBe('SUCCESS');
  });
});

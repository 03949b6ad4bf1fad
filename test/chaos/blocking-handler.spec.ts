// Chaos: a handler blocks its worker's event loop (a CPU-bound busy loop) for 3x the lease,
// while a second worker keeps fetching. The blocked worker is alive, so its lease must hold:
// the task runs exactly once and never twice at the same time.
import { afterAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { startRedisServer, type RedisServer } from '../../scripts/redis-server.mjs';
import { uniquePrefix } from '../support/test-redis.js';
import { startProducer, type Producer } from './support/producer.js';
import { readRecords, readTasks } from './support/records.js';
import { sleep, until } from './support/time.js';
import { isRunning, WorkerPool } from './support/workers.js';

const LEASE_MS = 2_000;
const BLOCK_MS = 3 * LEASE_MS;

describe('chaos: a handler that blocks the event loop longer than its lease', () => {
  let server: RedisServer | undefined;
  let pool: WorkerPool | undefined;
  let producer: Producer | undefined;
  let redis: Redis | undefined;

  afterAll(async () => {
    await pool?.stopAll();
    await producer?.close().catch(() => undefined);
    redis?.disconnect();
    await server?.stop();
  }, 30_000);

  it('runs exactly once, never two at a time, while its process stays alive', async () => {
    server = await startRedisServer();
    const prefix = uniquePrefix('chaos');
    redis = new Redis(server.url);
    pool = new WorkerPool({ REDIS_URL: server.url, TQ_PREFIX: prefix, CHAOS_CONCURRENCY: '2', CHAOS_LEASE_MS: String(LEASE_MS) });
    await pool.start(2);
    producer = await startProducer(server.url, prefix);

    const id = 'block-1';
    await producer.client.send('chaos.block', [BLOCK_MS], { taskId: id });
    const runs = async () => (await readRecords(redis!, prefix)).executions.get(id) ?? [];
    await until(async () => (await runs()).length > 0, 10_000, () => `chaos.block never started\n${pool!.logs()}`, 50);
    const blockedPid = (await runs())[0]!.pid;
    const blocked = pool.all.find((w) => w.pid === blockedPid)!;

    // Keep the other worker fetching while the first is blocked: each fetch is a chance to
    // take over leases that ran out (as on a busy queue).
    const trickle: string[] = [];
    for (let t = 0; t < BLOCK_MS + LEASE_MS; t += 250) {
      const handle = await producer.client.send('chaos.record', [t]);
      trickle.push(handle.id);
      await sleep(250);
    }

    const explain = async () => `${JSON.stringify([...(await readTasks(redis!, prefix, [id]))])}\n${pool!.logs()}`;
    await until(async () => (await readTasks(redis!, prefix, [id])).get(id)?.state === 'SUCCESS', 30_000, explain);
    await until(
      async () => [...(await readTasks(redis!, prefix, trickle)).values()].every((t) => t.state === 'SUCCESS'),
      10_000,
      explain,
    );

    const task = (await readTasks(redis, prefix, [id])).get(id)!;
    const executions = await runs();
    const maxRunning = (await readRecords(redis, prefix)).maxRunning.get(id);
    console.log(
      `chaos blocking-handler: lease=${LEASE_MS}ms block=${BLOCK_MS}ms executions=${executions.length} ` +
        `(pids ${executions.map((e) => e.pid).join(', ')}) max-concurrent=${maxRunning} deliveries=${task.deliveries} ` +
        `blocked-worker-alive=${isRunning(blocked.child)} dropped-outcomes=${pool.lines('lease was taken over').length}`,
    );

    expect(isRunning(blocked.child)).toBe(true);
    expect(task).toMatchObject({ state: 'SUCCESS', result: BLOCK_MS });
    expect(maxRunning).toBe(1);
    expect(executions).toEqual([{ pid: blockedPid, run: expect.any(String), ended: true }]);
    expect(task.deliveries).toBe(1);
  }, 60_000);
});

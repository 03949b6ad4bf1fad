// What integration tests share: the Redis URL the global setup started, and key prefixes that
// keep each test's data apart (no test ever flushes a Redis).
import { randomBytes } from 'node:crypto';
import { afterEach } from '@jest/globals';
import { Redis } from 'ioredis';

export function testRedisUrl(): string {
  const url = process.env.TEST_REDIS_URL;
  if (!url) throw new Error('TEST_REDIS_URL is not set: run the tests through jest (its global setup starts Redis)');
  return url;
}

export function uniquePrefix(label = 't'): string {
  return `${label}${randomBytes(4).toString('hex')}`;
}

export function rawRedis(): Redis {
  return new Redis(testRedisUrl());
}

/**
 * For a describe block: a function that opens raw clients, each disconnected after the test that
 * opened it.
 */
export function rawRedisForEachTest(): () => Redis {
  const clients: Redis[] = [];
  afterEach(() => {
    for (const client of clients.splice(0)) client.disconnect();
  });
  return () => {
    const client = rawRedis();
    clients.push(client);
    return client;
  };
}

/**
 * How many tasks a queue's lease index (its active zset) holds: leases have finite deadlines; the
 * index's one member with score +inf only keeps it a skiplist (see fetch.lua).
 */
export function leaseCount(redis: Redis, activeKey: string): Promise<number> {
  return redis.zcount(activeKey, '-inf', '(+inf');
}

/**
 * Marks a queue watched for as long as a test runs (what an event stream does, see QueueWatch):
 * workers publish STARTED and outcome events only then, so a raw subscriber needs it.
 */
export async function markWatched(redis: Redis, watchedKey: string): Promise<void> {
  await redis.set(watchedKey, '1', 'PX', 600_000);
}

export const quietLogger = {
  log: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  debug: () => undefined,
};

export function capturingLogger() {
  const lines: string[] = [];
  const push = (m: unknown) => void lines.push(String(m));
  return { lines, logger: { log: push, warn: push, error: push, debug: push, verbose: push } };
}

/** Resolves when check() is true; for tests only (the library itself never polls). */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

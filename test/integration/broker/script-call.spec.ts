// Script calls are written as protocol text we encode ourselves (see lua-script.ts): byte
// lengths must be right for any text, and a script Redis does not have is sent in full.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { startRedisServer, type RedisServer } from '../../../scripts/redis-server.mjs';
import { LuaScript, scripts } from '../../../lib/broker/lua-script.js';
import { TaskQueueEngine } from '../../../lib/engine.js';
import { capturingLogger, quietLogger, rawRedis, testRedisUrl, uniquePrefix } from '../../support/test-redis.js';

describe('script calls', () => {
  let server: RedisServer;
  let redis: Redis;
  beforeAll(async () => {
    // Its own server: this test flushes the script cache.
    server = await startRedisServer();
    redis = new Redis(server.url);
  });
  afterAll(async () => {
    redis.disconnect();
    await server.stop();
  });

  it('passes keys and arguments of any text exactly, with their byte lengths', async () => {
    const echo = new LuaScript('echo', 'return { #KEYS, KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], string.len(ARGV[2]), #ARGV }');
    const text = 'héllo wörld 🌍 任务';
    const reply = await echo.run(redis, ['{q}:ключ'], ['', text, 1_764_750_000_000, 'a\r\nb']);
    expect(reply).toEqual([1, '{q}:ключ', '', text, '1764750000000', 'a\r\nb', Buffer.byteLength(text), 4]);
  });

  it('passes more arguments than one call has carried before, each intact', async () => {
    const count = new LuaScript('count', 'return { #ARGV, ARGV[1], ARGV[#ARGV - 1], ARGV[#ARGV] }');
    const args = Array.from({ length: 5_000 }, (_, i) => (i % 2 === 0 ? `é${i}` : i));
    await expect(count.run(redis, [], args)).resolves.toEqual([5_000, 'é0', 'é4998', '4999']);
    await expect(count.run(redis, [], ['a', 'b'])).resolves.toEqual([2, 'a', 'a', 'b']);
  });

  it('sends a script in full when Redis does not have it (NOSCRIPT), then by SHA again', async () => {
    await redis.script('FLUSH');
    const reply = await scripts.rateLimit.run(redis, ['{q}:rl:x'], [1_000, 100, 'reserve']);
    expect(Number(reply)).toBe(1_000);
    expect(await redis.script('EXISTS', scripts.rateLimit.sha)).toEqual([1]);
  });

  it('carries a task with a non-ASCII id and arguments through send, fetch and commit', async () => {
    const engine = new TaskQueueEngine({ connection: testRedisUrl(), prefix: uniquePrefix(), defaultQueue: 'default', logger: quietLogger });
    try {
      const worker = engine.createWorker(
        { get: (name) => (name === 'echo' ? { name, invoke: (args) => ({ got: args[0], name: 'ünïcode ✓' }) } : undefined) },
        { queues: ['default'], concurrency: 2, leaseMs: 5_000, shutdownGraceMs: 1_000, resultTtlSec: 60, maxDeliveries: 5 },
        () => capturingLogger().logger,
      );
      await worker.start();
      const sent = await engine.producer.send('echo', ['Grüße, 世界 🚀'], { taskId: 'tâche-一' });
      const handle = engine.handle(sent.id, async () => sent.queue);
      await expect(handle.result({ timeout: 5_000 })).resolves.toEqual({ got: 'Grüße, 世界 🚀', name: 'ünïcode ✓' });
      const raw = rawRedis();
      try {
        expect(await raw.hget(engine.broker.keys('default').task('tâche-一'), 'st')).toBe('SUCCESS');
      } finally {
        raw.disconnect();
      }
    } finally {
      await engine.close();
    }
  });
});

#!/usr/bin/env node
// node bench/anatomy.mjs [--lib-source=worktree|head|dist] [N]
// What each library leaves in Redis per completed task (results kept): keys, their types and
// fields, and MEMORY USAGE, on a private redis-server. Not timed; a tool for reading the
// "Redis used_memory" figure of bench/RESULTS.md.
import { buildLib } from './lib/build-lib.mjs';
import { installCleanup } from './lib/procs.mjs';
import { startPrivateRedis } from './lib/redis-admin.mjs';
import { makePayload } from './lib/payload.mjs';

const args = process.argv.slice(2);
const source = args.find((a) => a.startsWith('--lib-source='))?.split('=')[1] ?? 'worktree';
const n = Number(args.find((a) => /^\d+$/.test(a)) ?? 2000);

installCleanup();
process.env.BENCH_OURS_ENTRY = buildLib(source).entry;
const redis = await startPrivateRedis();
const { admin } = redis;
try {
  for (const lib of ['ours', 'bullmq', 'beequeue']) {
    const adapter = await import(`./adapters/${lib}.mjs`);
    await admin.flushall();
    const before = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))[1]);
    let done = 0;
    let allDone;
    const finished = new Promise((r) => (allDone = r));
    const worker = await adapter.startWorker({ url: redis.url, port: redis.port, concurrency: 50, keep: true, onTask: () => ++done === n && allDone() });
    const producer = await adapter.createProducer({ url: redis.url, port: redis.port, keep: true });
    for (let i = 0; i < n; i += 500) await producer.sendBulk(Array.from({ length: Math.min(500, n - i) }, (_, j) => makePayload(i + j)));
    await finished;
    await new Promise((r) => setTimeout(r, 300));
    await producer.close();
    await worker.close();
    await adapter.verifyProcessed(admin, n, true);
    const after = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))[1]);
    const keys = await admin.keys('*');
    const perKey = [];
    for (const key of keys) perKey.push({ key, type: await admin.type(key), bytes: Number(await admin.memory('USAGE', key, 'SAMPLES', '0')) });
    const taskKeys = perKey.filter((k) => k.type === 'hash' && /[:]t:|bull:bench:\d+$/.test(k.key));
    const shared = perKey.filter((k) => !taskKeys.includes(k));
    console.log(`\n## ${adapter.label}: used_memory +${((after - before) / n).toFixed(0)} B per task (${n} tasks)`);
    if (taskKeys.length) {
      const sample = taskKeys[0];
      const avg = taskKeys.reduce((a, k) => a + k.bytes, 0) / taskKeys.length;
      console.log(`- ${taskKeys.length} per-task hashes, MEMORY USAGE avg ${avg.toFixed(0)} B, e.g. ${sample.key} (TTL ${await admin.ttl(sample.key)} s, encoding ${await admin.object('ENCODING', sample.key)}):`);
      const fields = await admin.hgetall(sample.key);
      for (const [f, v] of Object.entries(fields)) console.log(`    ${f} (${Buffer.byteLength(v)} B): ${v.length > 120 ? v.slice(0, 117) + '...' : v}`);
    }
    for (const k of shared.sort((a, b) => b.bytes - a.bytes).slice(0, 8)) {
      console.log(`- ${k.key} (${k.type}): ${k.bytes} B${k.bytes > 10_000 ? ` = ${(k.bytes / n).toFixed(0)} B per task` : ''}`);
    }
  }
} finally {
  await redis.stop();
}

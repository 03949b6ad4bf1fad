// One measurement each: reset our private Redis, run the roles in fresh processes, verify
// that every job completed exactly once, and only then return the figures.
import { commandCalls, redisCpuSec, resetRedis, usedMemory } from './redis-admin.mjs';
import { withChildren } from './procs.mjs';
import { percentile } from './stats.mjs';

const READY_MS = 60_000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Bounds a wait, and fails it at once if any of the children fails. */
async function bounded(promise, children, timeoutMs, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout, ...children.map((c) => c.failed)]);
  } finally {
    clearTimeout(timer);
  }
}

/** Budget for N tasks at no less than ~400 tasks/s, plus start-up. */
const budgetMs = (n) => 60_000 + n * 2.5;

function childOptions(ctx, extra = {}) {
  return { env: { BENCH_OURS_ENTRY: ctx.oursEntry }, ...extra };
}

function base(ctx, lib) {
  return { lib, url: ctx.redis.url, port: ctx.redis.port, n: ctx.cfg.n };
}

/** Runs a producer role to completion; returns its result message. */
async function runProducer(ctx, spawn, lib, role, extra, what) {
  const c = spawn(`${lib} ${role}`, { ...base(ctx, lib), role, inflight: ctx.cfg.inflight, chunk: ctx.cfg.chunk, ...extra }, childOptions(ctx));
  await bounded(c.next('ready', READY_MS), [c], READY_MS, what);
  c.send({ cmd: 'go' });
  const result = await bounded(c.next('result', budgetMs(ctx.cfg.n)), [c], budgetMs(ctx.cfg.n), what);
  await bounded(c.next('closed', 30_000), [c], 30_000, what);
  await c.stop();
  return result;
}

/** (a) enqueue rate: mode 'one' (one call at a time, 100 in flight) or 'bulk' (chunks of 1,000). */
export async function measureEnqueue(ctx, lib, mode) {
  const { admin } = ctx.redis;
  const adapter = ctx.adapters[lib];
  await resetRedis(admin);
  return withChildren(async (spawn) => {
    const c = spawn(`${lib} producer`, {
      ...base(ctx, lib),
      role: mode === 'one' ? 'enqueue-one' : 'enqueue-bulk',
      inflight: ctx.cfg.inflight,
      chunk: ctx.cfg.chunk,
      keep: true,
    }, childOptions(ctx));
    await bounded(c.next('ready', READY_MS), [c], READY_MS, 'producer start');
    await admin.config('RESETSTAT');
    const cpu0 = await redisCpuSec(admin);
    c.send({ cmd: 'go' });
    const r = await bounded(c.next('result', budgetMs(ctx.cfg.n)), [c], budgetMs(ctx.cfg.n), `enqueue ${mode}`);
    const cpu1 = await redisCpuSec(admin);
    const calls = await commandCalls(admin);
    await bounded(c.next('closed', 30_000), [c], 30_000, 'producer close');
    await c.stop();
    await adapter.verifyEnqueued(admin, ctx.cfg.n);
    const n = ctx.cfg.n;
    return {
      rate: n / (r.ms / 1000),
      producerCpuUs: r.cpuUs / n,
      redisCpuUs: ((cpu1 - cpu0) * 1e6) / n,
      commandsPerTask: sum(Object.values(calls)) / n,
    };
  });
}

/**
 * (b), (d), (e): pre-fill N tasks, start `workers` worker processes at `concurrency`, time from
 * the first task run to the last one, then verify in Redis and with the workers' own counters.
 */
export async function measureProcessing(ctx, lib, { workers, concurrency, keep = true, wire = false, profileFile, execArgv = [] }) {
  const { admin } = ctx.redis;
  const adapter = ctx.adapters[lib];
  const n = ctx.cfg.n;
  await resetRedis(admin);
  const mem0 = await usedMemory(admin);
  return withChildren(async (spawn) => {
    await runProducer(ctx, spawn, lib, 'enqueue-bulk', { keep }, 'pre-fill');
    await adapter.verifyEnqueued(admin, n);

    const ws = Array.from({ length: workers }, (_, i) =>
      spawn(
        `${lib} worker ${i + 1}/${workers}`,
        { ...base(ctx, lib), role: 'worker', concurrency, keep, wire, profileFile: profileFile && `${profileFile}.${i + 1}.cpuprofile` },
        childOptions(ctx, { execArgv }),
      ),
    );
    await bounded(Promise.all(ws.map((w) => w.next('ready', READY_MS))), ws, READY_MS, 'worker start');
    await admin.config('RESETSTAT');
    const cpu0 = await redisCpuSec(admin);
    const counts = new Array(workers).fill(0);
    const allDone = new Promise((resolve) => {
      ws.forEach((w, i) =>
        w.on('progress', (m) => {
          counts[i] = m.count;
          if (sum(counts) >= n) resolve();
        }),
      );
    });
    for (const w of ws) w.send({ cmd: 'go' });
    const started = await bounded(Promise.all(ws.map((w) => w.next('started', READY_MS))), ws, READY_MS, 'worker boot');
    await bounded(allDone, ws, budgetMs(n), `processing ${workers}×${concurrency}`);
    await sleep(150); // the last outcomes' writes land
    for (const w of ws) w.send({ cmd: 'finish' });
    const results = await bounded(Promise.all(ws.map((w) => w.next('result', 30_000))), ws, 30_000, 'worker report');
    const cpu1 = await redisCpuSec(admin);
    const calls = await commandCalls(admin);
    await bounded(Promise.all(ws.map((w) => w.next('closed', 30_000))), ws, 30_000, 'worker close');
    await Promise.all(ws.map((w) => w.stop()));

    // Verification: Redis says everything finished, and every job ran exactly once.
    await adapter.verifyProcessed(admin, n, keep);
    checkExactlyOnce(results, n);
    const mem1 = await usedMemory(admin);

    const first = Math.min(...results.map((r) => r.firstAt));
    const last = Math.max(...results.map((r) => r.lastAt));
    return {
      rate: n / ((last - first) / 1000),
      bootMs: Math.max(...started.map((s) => s.bootMs)),
      workerCpuUs: sum(results.map((r) => r.cpuUs)) / n,
      redisCpuUs: ((cpu1 - cpu0) * 1e6) / n,
      peakRssMb: Math.max(...results.map((r) => r.peakRssKb)) / 1024,
      startRssMb: Math.max(...started.map((s) => s.rssKb)) / 1024,
      loadedRssMb: Math.max(...started.map((s) => s.loadedRssKb)) / 1024,
      redisMemMb: (mem1 - mem0) / 2 ** 20,
      commandsPerTask: sum(Object.values(calls)) / n,
      commandsByName: Object.fromEntries(Object.entries(calls).map(([k, v]) => [k, v / n])),
      wire: wire ? mergeWire(results.map((r) => r.wire), n) : undefined,
    };
  });
}

/** (c) enqueue-to-completion latency of sequential tasks on an idle worker. */
export async function measureLatency(ctx, lib, { wire = false, concurrency = 1 } = {}) {
  const { admin } = ctx.redis;
  const adapter = ctx.adapters[lib];
  const { latencyCount: count, latencyWarmup: warmup } = ctx.cfg;
  const total = count + warmup;
  await resetRedis(admin);
  return withChildren(async (spawn) => {
    const w = spawn(`${lib} worker`, { ...base(ctx, lib), n: total, role: 'worker', concurrency, keep: true, wire }, childOptions(ctx));
    await bounded(w.next('ready', READY_MS), [w], READY_MS, 'worker start');
    w.send({ cmd: 'go' });
    await bounded(w.next('started', READY_MS), [w], READY_MS, 'worker boot');
    await sleep(200); // idle: the worker is waiting for work
    const p = spawn(`${lib} latency producer`, { ...base(ctx, lib), role: 'latency', count, warmup, wire }, childOptions(ctx));
    await bounded(p.next('ready', READY_MS), [p, w], READY_MS, 'producer start');
    p.send({ cmd: 'go' });
    const r = await bounded(p.next('result', 120_000), [p, w], 120_000, 'latency');
    await bounded(p.next('closed', 30_000), [p], 30_000, 'producer close');
    await p.stop();
    w.send({ cmd: 'finish' });
    const wr = await bounded(w.next('result', 30_000), [w], 30_000, 'worker report');
    await bounded(w.next('closed', 30_000), [w], 30_000, 'worker close');
    await w.stop();
    await adapter.verifyProcessed(admin, total, true);
    checkExactlyOnce([wr], total);
    const s = r.samples;
    return {
      p50: percentile(s, 50),
      p90: percentile(s, 90),
      p99: percentile(s, 99),
      mean: sum(s) / s.length,
      wire: wire ? { producer: mergeWire([r.wire], total), worker: mergeWire([wr.wire], total) } : undefined,
    };
  });
}

function checkExactlyOnce(results, n) {
  const total = new Uint16Array(n);
  let count = 0;
  for (const r of results) {
    if (r.outOfRange) throw new Error(`${r.outOfRange} job(s) with an unexpected payload`);
    count += r.count;
    const seen = Buffer.from(r.seen, 'base64');
    for (let i = 0; i < n; i++) total[i] += seen[i];
  }
  let missing = 0;
  let twice = 0;
  for (let i = 0; i < n; i++) {
    if (total[i] === 0) missing++;
    else if (total[i] > 1) twice++;
  }
  if (missing || twice || count !== n) {
    throw new Error(`not exactly once: ${count} runs for ${n} jobs, ${missing} never ran, ${twice} ran more than once`);
  }
}

function mergeWire(list, n) {
  const byName = {};
  let writes = 0;
  let commands = 0;
  for (const w of list) {
    writes += w.writes;
    commands += w.commands;
    for (const [k, v] of Object.entries(w.byName)) byName[k] = (byName[k] ?? 0) + v;
  }
  return {
    writesPerTask: writes / n,
    commandsPerTask: commands / n,
    byName: Object.fromEntries(Object.entries(byName).map(([k, v]) => [k, v / n])),
  };
}

export function sum(values) {
  return values.reduce((a, b) => a + b, 0);
}

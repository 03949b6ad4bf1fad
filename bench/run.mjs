#!/usr/bin/env node
// npm run bench [-- --quick] : nestjs-taskqueue side by side with BullMQ and bee-queue on one
// private redis-server. See bench/README.md for what each figure means.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildLib, REPO } from './lib/build-lib.mjs';
import { readConfig } from './lib/config.mjs';
import { summariseProfile } from './lib/cpu-profile.mjs';
import { describeMachine, libraryVersions } from './lib/machine.mjs';
import { measureEnqueue, measureLatency, measureProcessing } from './lib/measure.mjs';
import { installCleanup, killAllNow } from './lib/procs.mjs';
import { resetRedis, startPrivateRedis } from './lib/redis-admin.mjs';
import { runRedisBenchmark } from './lib/redis-benchmark.mjs';
import { LIB_LABELS, renderReport } from './lib/report.mjs';

const log = (msg) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

/** The measurement plan of one run: [group, result key, label, fn(ctx, lib)]. */
function plan(cfg) {
  const steps = [];
  if (cfg.groups.includes('enqueue')) {
    steps.push(['enqueueOne', 'enqueue one-at-a-time', (ctx, lib) => measureEnqueue(ctx, lib, 'one')]);
    steps.push(['enqueueBulk', 'enqueue bulk', (ctx, lib) => measureEnqueue(ctx, lib, 'bulk')]);
  }
  if (cfg.groups.includes('processing')) {
    for (const [w, c] of [[1, 1], [1, 10], [1, 100], [2, 100]]) {
      if (!cfg.proc.includes(`${w}x${c}`)) continue;
      steps.push([`proc${w}x${c}`, `processing ${w}×${c}`, (ctx, lib) => measureProcessing(ctx, lib, { workers: w, concurrency: c })]);
    }
    if (cfg.proc.includes('drop')) steps.push(['drop1x100', 'processing 1×100, results dropped', (ctx, lib) =>
      measureProcessing(ctx, lib, { workers: 1, concurrency: 100, keep: false })]);
    // Not a target: what every library's worker does with a smaller V8 young generation, a flag a
    // user can set (node --max-semi-space-size=2) and a library cannot.
    if (cfg.proc.includes('semi2')) steps.push(['semi1x100', 'processing 1×100, node --max-semi-space-size=2', (ctx, lib) =>
      measureProcessing(ctx, lib, { workers: 1, concurrency: 100, execArgv: ['--max-semi-space-size=2'] })]);
  }
  if (cfg.groups.includes('latency')) {
    steps.push(['latency', 'latency', (ctx, lib) => measureLatency(ctx, lib)]);
    // Not a target: the same on a worker of concurrency 10 (our default), which has room left
    // after each task it is given.
    steps.push(['latency10', 'latency, worker concurrency 10', (ctx, lib) => measureLatency(ctx, lib, { concurrency: 10 })]);
  }
  return steps;
}

function summary(group, r) {
  if (group.startsWith('latency')) return `p50 ${r.p50.toFixed(3)} ms, p90 ${r.p90.toFixed(3)} ms, p99 ${r.p99.toFixed(3)} ms`;
  const parts = [`${Math.round(r.rate).toLocaleString('en-US')} tasks/s`];
  if (r.producerCpuUs !== undefined) parts.push(`producer ${r.producerCpuUs.toFixed(1)} µs/task`, `redis ${r.redisCpuUs.toFixed(1)} µs/task`);
  if (r.workerCpuUs !== undefined) {
    parts.push(`worker ${r.workerCpuUs.toFixed(1)} µs/task`, `redis ${r.redisCpuUs.toFixed(1)} µs/task`,
      `${r.commandsPerTask.toFixed(2)} cmds/task`, `RSS ${r.startRssMb.toFixed(0)}→${r.peakRssMb.toFixed(0)} MB`, `mem ${r.redisMemMb.toFixed(2)} MB`);
  }
  return parts.join(', ');
}

async function main() {
  const cfg = readConfig();
  if (cfg.help) {
    process.stdout.write('usage: npm run bench [-- --quick] [--libs=ours,bullmq,beequeue] [--only=enqueue,processing,latency,wire,reference] ' +
      '[--proc=1x1,1x10,1x100,2x100,drop,semi2] [--lib-source=worktree|head|dist|<built folder>] [--profile] [--no-results]   (env BENCH_N, BENCH_RUNS)\n');
    return;
  }
  installCleanup();
  const startedAt = new Date();
  const t0 = Date.now();
  const loadBefore = describeMachine().load;
  log(`${cfg.quick ? 'quick' : 'full'} mode: N=${cfg.n}, ${cfg.runs} run(s), libs ${cfg.libs.join(', ')}, groups ${cfg.groups.join(', ')}`);

  log(`building nestjs-taskqueue (${cfg.libSource}) into node_modules/.cache ...`);
  const built = buildLib(cfg.libSource);
  log(`built: ${built.label}`);

  const redis = await startPrivateRedis();
  log(`private redis-server ${redis.version} on 127.0.0.1:${redis.port}`);
  const adapters = {};
  for (const lib of cfg.libs) adapters[lib] = await import(`./adapters/${lib}.mjs`);
  const ctx = { cfg, redis, adapters, oursEntry: built.entry };
  const results = Object.fromEntries(cfg.libs.map((l) => [l, {}]));
  const errors = [];
  const reference = [];
  const profiles = {};

  const attempt = async (what, fn) => {
    try {
      return await fn();
    } catch (err) {
      log(`FAILED ${what}: ${err.message}`);
      errors.push({ what, message: err.message });
      return null;
    }
  };

  try {
    if (cfg.groups.includes('reference')) {
      for (const p of [1, 16]) {
        await resetRedis(redis.admin);
        const r = await attempt(`redis-benchmark -P ${p}`, () => runRedisBenchmark(redis.port, cfg.redisBenchmarkN, p));
        reference.push(r ?? { command: `redis-benchmark -P ${p}`, error: errors.at(-1)?.message });
        if (r) log(`${r.command}: LPUSH ${r.lpush} req/s, RPOP ${r.rpop} req/s`);
      }
    }

    const steps = plan(cfg);
    for (let run = 0; run < cfg.runs; run++) {
      // Rotate which library goes first, so slow drift of the machine does not favour one.
      const order = cfg.libs.map((_, i) => cfg.libs[(i + run) % cfg.libs.length]);
      for (const [group, label, fn] of steps) {
        for (const lib of order) {
          const what = `run ${run + 1}/${cfg.runs} ${label} ${LIB_LABELS[lib]}`;
          const r = await attempt(what, () => fn(ctx, lib));
          (results[lib][group] ??= []).push(r);
          if (r) log(`${what}: ${summary(group, r)}`);
        }
      }
    }

    if (cfg.groups.includes('wire') && cfg.groups.includes('processing')) {
      for (const lib of cfg.libs) {
        const what = `wire count 1×100 ${LIB_LABELS[lib]}`;
        const r = await attempt(what, () => measureProcessing(ctx, lib, { workers: 1, concurrency: 100, wire: true }));
        if (r) {
          results[lib].wire = [r.wire];
          log(`${what}: ${r.wire.writesPerTask.toFixed(3)} writes/task, ${r.wire.commandsPerTask.toFixed(2)} commands/task`);
        }
      }
    }

    if (cfg.profile) {
      const dir = join(REPO, 'node_modules', '.cache', 'nestjs-taskqueue-bench', 'profiles');
      mkdirSync(dir, { recursive: true });
      for (const lib of cfg.libs) {
        const what = `cpu profile 1×100 ${LIB_LABELS[lib]}`;
        const base = join(dir, lib);
        const r = await attempt(what, () => measureProcessing(ctx, lib, { workers: 1, concurrency: 100, profileFile: base }));
        const file = `${base}.1.cpuprofile`;
        if (r && existsSync(file)) {
          profiles[lib] = { ...summariseProfile(file), rate: r.rate, file };
          log(`${what}: ${file}`);
        } else profiles[lib] = { error: errors.at(-1)?.message ?? 'no profile written' };
      }
    }
  } finally {
    await redis.stop();
    killAllNow();
  }

  const minutes = (Date.now() - t0) / 60_000;
  const { markdown, evaluated } = renderReport({
    cfg,
    machine: { ...describeMachine(), loadBefore },
    versions: libraryVersions(built.label),
    redisVersion: redis.version,
    results,
    reference,
    profiles,
    errors,
    minutes,
    startedAt,
  });
  process.stdout.write(`\n${markdown}\n`);
  if (cfg.writeResults) {
    writeFileSync(new URL('./RESULTS.md', import.meta.url), markdown + '\n');
    const raw = join(REPO, 'node_modules', '.cache', 'nestjs-taskqueue-bench', 'last-results.json');
    writeFileSync(raw, JSON.stringify({ cfg, results, reference, profiles, errors, evaluated }, null, 1));
    log(`wrote bench/RESULTS.md (raw figures: ${raw})`);
  }
  log(`done in ${minutes.toFixed(1)} minutes${errors.length ? `, ${errors.length} measurement(s) failed` : ''}`);
  if (errors.length) process.exitCode = 1;
}

main().catch((err) => {
  log(`bench failed: ${err.stack ?? err}`);
  killAllNow();
  process.exit(1);
});

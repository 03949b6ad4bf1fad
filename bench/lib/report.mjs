// Turns the collected runs into the table, the targets with PASS/MISS, and bench/RESULTS.md.
import { median } from './stats.mjs';

export const LIB_LABELS = { ours: 'nestjs-taskqueue', bullmq: 'BullMQ', beequeue: 'bee-queue' };

/** Every figure: where it comes from (group.metric), its unit, and which way is better. */
export const FIGURES = [
  { key: 'enqueueOne.rate', label: 'enqueue, one call at a time, 100 in flight', unit: 'tasks/s', better: 'higher' },
  { key: 'enqueueBulk.rate', label: 'enqueue, bulk in chunks of 1,000', unit: 'tasks/s', better: 'higher' },
  { key: 'proc1x1.rate', label: 'processing, 1 worker × concurrency 1', unit: 'tasks/s', better: 'higher' },
  { key: 'proc1x10.rate', label: 'processing, 1 worker × concurrency 10', unit: 'tasks/s', better: 'higher' },
  { key: 'proc1x100.rate', label: 'processing, 1 worker × concurrency 100', unit: 'tasks/s', better: 'higher' },
  { key: 'proc2x100.rate', label: 'processing, 2 workers × concurrency 100', unit: 'tasks/s', better: 'higher' },
  { key: 'drop1x100.rate', label: 'processing, 1 × 100, results dropped', unit: 'tasks/s', better: 'higher' },
  { key: 'latency.p50', label: 'latency send→completion seen, p50', unit: 'ms', better: 'lower', digits: 3 },
  { key: 'latency.p90', label: 'latency send→completion seen, p90', unit: 'ms', better: 'lower', digits: 3 },
  { key: 'latency.p99', label: 'latency send→completion seen, p99', unit: 'ms', better: 'lower', digits: 3 },
  { key: 'latency10.p50', label: 'latency p50, worker of concurrency 10 (not a target)', unit: 'ms', better: 'lower', digits: 3 },
  { key: 'latency10.p99', label: 'latency p99, worker of concurrency 10 (not a target)', unit: 'ms', better: 'lower', digits: 3 },
  { key: 'proc1x100.peakRssMb', label: 'worker peak RSS (VmHWM), 1 × 100', unit: 'MB', better: 'lower', digits: 1 },
  { key: 'proc1x100.startRssMb', label: 'worker peak RSS once started, before any task', unit: 'MB', better: 'lower', digits: 1 },
  { key: 'proc1x100.loadedRssMb', label: 'worker peak RSS with its modules loaded, before it connects', unit: 'MB', better: 'lower', digits: 1 },
  { key: 'semi1x100.peakRssMb', label: 'worker peak RSS (VmHWM), 1 × 100, node --max-semi-space-size=2 ²', unit: 'MB', better: 'lower', digits: 1 },
  { key: 'semi1x100.rate', label: 'processing, 1 × 100, node --max-semi-space-size=2 ²', unit: 'tasks/s', better: 'higher' },
  { key: 'proc1x100.redisMemMb', label: 'Redis used_memory after N tasks, results kept', unit: 'MB', better: 'lower', digits: 2 },
  { key: 'drop1x100.redisMemMb', label: 'Redis used_memory after N tasks, results dropped', unit: 'MB', better: 'lower', digits: 2 },
  { key: 'proc1x100.workerCpuUs', label: 'worker CPU per task, 1 × 100', unit: 'µs', better: 'lower', digits: 1 },
  { key: 'proc1x100.redisCpuUs', label: 'Redis CPU per task, 1 × 100', unit: 'µs', better: 'lower', digits: 1 },
  { key: 'proc1x100.commandsPerTask', label: 'Redis commands per task, processing 1 × 100 (commandstats)', unit: 'cmds', better: 'lower', digits: 2 },
  { key: 'wire.writesPerTask', label: 'worker round trips (socket writes) per task, 1 × 100', unit: 'writes', better: 'lower', digits: 3, single: true },
  { key: 'wire.commandsPerTask', label: 'worker commands sent per task, 1 × 100', unit: 'cmds', better: 'lower', digits: 2, single: true },
  { key: 'enqueueOne.commandsPerTask', label: 'Redis commands per task, enqueue one at a time', unit: 'cmds', better: 'lower', digits: 2 },
  { key: 'enqueueOne.producerCpuUs', label: 'producer CPU per task, enqueue one at a time', unit: 'µs', better: 'lower', digits: 1 },
  { key: 'enqueueBulk.producerCpuUs', label: 'producer CPU per task, enqueue bulk', unit: 'µs', better: 'lower', digits: 1 },
  { key: 'enqueueOne.redisCpuUs', label: 'Redis CPU per task, enqueue one at a time', unit: 'µs', better: 'lower', digits: 1 },
  { key: 'proc1x100.bootMs', label: 'worker start-up (process up → consuming)', unit: 'ms', better: 'lower', digits: 0 },
];

/** The goals of issue 6: ratio = ours/theirs of the figure, compared with goal. */
export const TARGETS = [
  { text: 'processing 1×100 ≥ 3× BullMQ', key: 'proc1x100.rate', vs: 'bullmq', op: '>=', goal: 3 },
  { text: 'processing 1×100 ≥ 2.5× bee-queue', key: 'proc1x100.rate', vs: 'beequeue', op: '>=', goal: 2.5 },
  { text: 'processing 1×10 ≥ 2× BullMQ', key: 'proc1x10.rate', vs: 'bullmq', op: '>=', goal: 2 },
  { text: 'enqueue bulk ≥ 2× bee-queue', key: 'enqueueBulk.rate', vs: 'beequeue', op: '>=', goal: 2 },
  { text: 'enqueue one-at-a-time ≥ 1.5× bee-queue', key: 'enqueueOne.rate', vs: 'beequeue', op: '>=', goal: 1.5 },
  { text: "latency p50 ≤ 0.75× bee-queue's", key: 'latency.p50', vs: 'beequeue', op: '<=', goal: 0.75 },
  { text: "latency p99 ≤ 0.5× BullMQ's", key: 'latency.p99', vs: 'bullmq', op: '<=', goal: 0.5 },
  { text: "Redis memory, results kept ≤ 0.85× bee-queue's", key: 'proc1x100.redisMemMb', vs: 'beequeue', op: '<=', goal: 0.85 },
  { text: "worker peak RSS ≤ BullMQ's + 10%", key: 'proc1x100.peakRssMb', vs: 'bullmq', op: '<=', goal: 1.1 },
  { text: 'worker CPU µs/task < BullMQ', key: 'proc1x100.workerCpuUs', vs: 'bullmq', op: '<', goal: 1 },
  { text: 'worker CPU µs/task < bee-queue', key: 'proc1x100.workerCpuUs', vs: 'beequeue', op: '<', goal: 1 },
  { text: 'Redis CPU µs/task < BullMQ', key: 'proc1x100.redisCpuUs', vs: 'bullmq', op: '<', goal: 1 },
  { text: 'Redis CPU µs/task < bee-queue', key: 'proc1x100.redisCpuUs', vs: 'beequeue', op: '<', goal: 1 },
];

/** results[lib][group] = [ { metric: value, ... } per run ]  ->  the median of a figure. */
export function figureValue(results, lib, key) {
  const [group, metric] = key.split('.');
  const runs = results[lib]?.[group] ?? [];
  return median(runs.map((r) => r?.[metric]));
}

function fmt(v, digits = 0) {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function advantage(fig, ours, theirs) {
  if (!(ours > 0) || !(theirs > 0)) return null;
  return fig.better === 'higher' ? ours / theirs : theirs / ours;
}

export function figuresTable(results, libs) {
  const others = libs.filter((l) => l !== 'ours');
  const head = ['figure', 'unit', ...libs.map((l) => LIB_LABELS[l])];
  if (libs.includes('ours')) head.push(...others.map((o) => `ours vs ${LIB_LABELS[o]}`), 'ratio is');
  const rows = [head, head.map(() => '---')];
  for (const fig of FIGURES) {
    const values = libs.map((l) => figureValue(results, l, fig.key));
    if (values.every((v) => v === null)) continue;
    const row = [fig.label + (fig.single ? ' ¹' : ''), fig.unit, ...values.map((v) => fmt(v, fig.digits ?? 0))];
    if (libs.includes('ours')) {
      const ours = figureValue(results, 'ours', fig.key);
      for (const o of others) {
        const a = advantage(fig, ours, figureValue(results, o, fig.key));
        row.push(a === null ? '—' : `${a.toFixed(2)}×`);
      }
      row.push(fig.better === 'higher' ? 'ours/theirs' : 'theirs/ours');
    }
    rows.push(row);
  }
  return rows.map((r) => `| ${r.join(' | ')} |`).join('\n');
}

export function evaluateTargets(results) {
  return TARGETS.map((t) => {
    const ours = figureValue(results, 'ours', t.key);
    const theirs = figureValue(results, t.vs, t.key);
    if (!(ours > 0) || !(theirs > 0)) return { ...t, ratio: null, status: 'N/A', note: 'not measured' };
    const ratio = ours / theirs;
    const pass = t.op === '>=' ? ratio >= t.goal : t.op === '<=' ? ratio <= t.goal : ratio < t.goal;
    // How far from the goal: for ≥ goals the share of the goal reached, for ≤ / < the excess.
    const note =
      t.op === '>='
        ? `${((ratio / t.goal) * 100).toFixed(0)}% of the goal`
        : `${ratio <= t.goal ? 'under' : 'over'} the goal by ${Math.abs((ratio / t.goal - 1) * 100).toFixed(0)}%`;
    return { ...t, ratio, status: pass ? 'PASS' : 'MISS', note, perRun: perRunRatios(results, t) };
  });
}

/** The same ratio within each run (the run's measurement of ours against the run's of theirs): how much it moves. */
function perRunRatios(results, t) {
  const [group, metric] = t.key.split('.');
  const ours = results.ours?.[group] ?? [];
  const theirs = results[t.vs]?.[group] ?? [];
  const ratios = [];
  for (let i = 0; i < Math.min(ours.length, theirs.length); i++) {
    const a = ours[i]?.[metric];
    const b = theirs[i]?.[metric];
    if (a > 0 && b > 0) ratios.push(a / b);
  }
  return ratios;
}

export function targetsTable(evaluated) {
  const rows = [['target', 'measured ours/theirs', 'result', 'distance', 'ours/theirs in each run'], ['---', '---', '---', '---', '---']];
  for (const t of evaluated) {
    const each = t.perRun?.length ? t.perRun.map((r) => `${r.toFixed(2)}×`).join(', ') : '—';
    rows.push([t.text, t.ratio === null ? '—' : `${t.ratio.toFixed(2)}×`, t.status, t.note, each]);
  }
  return rows.map((r) => `| ${r.join(' | ')} |`).join('\n');
}

function commandsSection(results, libs) {
  const out = [];
  for (const lib of libs) {
    const runs = (results[lib]?.proc1x100 ?? []).filter(Boolean);
    if (runs.length === 0) continue;
    const names = new Set(runs.flatMap((r) => Object.keys(r.commandsByName ?? {})));
    const per = [...names]
      .map((name) => [name, median(runs.map((r) => r.commandsByName?.[name] ?? 0))])
      .filter(([, v]) => v >= 0.001)
      .sort((a, b) => b[1] - a[1]);
    const total = median(runs.map((r) => r.commandsPerTask));
    out.push(`- **${LIB_LABELS[lib]}**: ${fmt(total, 2)} per task: ${per.map(([k, v]) => `${k} ${fmt(v, 2)}`).join(', ')}`);
  }
  return out.join('\n');
}

function wireSection(results, libs) {
  const out = [];
  for (const lib of libs) {
    const w = results[lib]?.wire?.[0];
    if (!w) continue;
    const per = Object.entries(w.byName ?? {}).filter(([, v]) => v >= 0.001).sort((a, b) => b[1] - a[1]);
    out.push(
      `- **${LIB_LABELS[lib]}**: ${fmt(w.writesPerTask, 3)} socket writes and ${fmt(w.commandsPerTask, 2)} commands per task: ` +
        per.map(([k, v]) => `${k} ${fmt(v, 3)}`).join(', '),
    );
  }
  return out.join('\n');
}

function profileSection(profiles) {
  const out = [];
  for (const [lib, p] of Object.entries(profiles)) {
    if (p.error) {
      out.push(`### ${LIB_LABELS[lib]}\n\nprofile failed: ${p.error}`);
      continue;
    }
    out.push(`### ${LIB_LABELS[lib]} worker (${fmt(p.busyMs, 0)} ms busy of ${fmt(p.totalMs, 0)} ms sampled, ${fmt(p.rate, 0)} tasks/s under the profiler)`);
    out.push('', 'Self time by package, % of busy time: ' + p.packages.slice(0, 10).map((x) => `${x.name} ${x.pct.toFixed(1)}%`).join(', '));
    out.push('', '| self ms | % of busy | function |', '| ---: | ---: | --- |');
    for (const f of p.functions.slice(0, 20)) out.push(`| ${fmt(f.ms, 0)} | ${f.pct.toFixed(1)} | \`${f.name}\` |`);
    out.push('');
  }
  return out.join('\n');
}

export function renderReport({ cfg, machine, versions, redisVersion, results, reference, profiles, errors, minutes, startedAt }) {
  const libs = cfg.libs;
  const evaluated = evaluateTargets(results);
  const lines = [];
  lines.push('# Bench results: nestjs-taskqueue vs BullMQ vs bee-queue', '');
  lines.push(
    `Run ${startedAt.toISOString()}, ${cfg.quick ? 'quick mode' : 'full mode'}: N = ${cfg.n.toLocaleString('en-US')} tasks per measurement, ` +
      `median of ${cfg.runs} run(s), ${minutes.toFixed(1)} minutes in all. Produced by \`npm run bench\` (see bench/README.md); overwritten by each run.`,
    '',
  );
  lines.push('## Machine and versions', '');
  lines.push(`- machine: ${machine.nproc} CPUs (${machine.cpu}), ${machine.memGb} GB RAM; producer, worker(s) and Redis share them`);
  lines.push(
    `- 1-minute load average ${machine.loadBefore.toFixed(2)} before the bench, ${machine.load.toFixed(2)} after it ` +
      '(anything above what the bench itself puts on the machine is other work competing for the same cores)',
  );
  lines.push(`- node ${versions.node}, redis-server ${redisVersion} (private, no persistence), ioredis ${versions.ioredis}`);
  lines.push(`- nestjs-taskqueue ${versions.ours}, BullMQ ${versions.bullmq}, bee-queue ${versions.beequeue}`, '');
  lines.push('## Figures', '');
  lines.push(
    'Ratios are "ours vs theirs", always > 1 when ours is better: ours/theirs for rates, theirs/ours for costs (time, memory, CPU, commands).',
    '',
  );
  lines.push(figuresTable(results, libs), '');
  lines.push('¹ one instrumented run (every byte sent to Redis parsed), not part of the timed runs.', '');
  lines.push(
    "² not a target: every library's worker started with `node --max-semi-space-size=2` (a V8 young generation of at most " +
      '2 MB per semi-space instead of 16), which a user can set for a worker process and a library cannot.',
    '',
  );
  if (libs.includes('ours')) {
    lines.push('## Targets (issue 6)', '');
    lines.push(targetsTable(evaluated), '');
  }
  if (reference.length) {
    lines.push('## Physical reference: redis-benchmark on the same server', '');
    for (const r of reference) {
      lines.push(r.error ? `- ${r.command}: failed: ${r.error}` : `- \`${r.command}\`: LPUSH ${fmt(r.lpush)} req/s, RPOP ${fmt(r.rpop)} req/s`);
    }
    lines.push('');
  }
  const cmds = commandsSection(results, libs);
  if (cmds) lines.push('## Redis commands per task, processing 1 × 100 (INFO commandstats, includes commands run inside Lua)', '', cmds, '');
  const wire = wireSection(results, libs);
  if (wire) lines.push('## What a worker sends, per task (client side: socket writes = round trips, commands by name)', '', wire, '');
  if (profiles && Object.keys(profiles).length) lines.push('## Worker CPU profiles (node --cpu-prof, processing 1 × 100)', '', profileSection(profiles), '');
  if (errors.length) {
    lines.push('## Measurements that failed (not counted)', '');
    for (const e of errors) lines.push(`- ${e.what}: ${e.message.split('\n')[0]}`);
    lines.push('');
  }
  return { markdown: lines.join('\n'), evaluated };
}

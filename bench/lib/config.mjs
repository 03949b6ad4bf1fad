// What to run, from the command line and the environment:
//   --quick            N=5,000 and 1 run (a quick check)
//   BENCH_N=…          number of tasks per measurement (default 50,000)
//   BENCH_RUNS=…       runs per figure, the median is reported (default 3, quick 1)
//   --libs=ours,bullmq,beequeue   which libraries (default all three)
//   --only=enqueue,processing,latency,memory   which figure groups (default all)
//   --lib-source=worktree|head|dist   which nestjs-taskqueue to build (default worktree)
//   --proc=1x1,1x10,1x100,2x100,drop,semi2   which processing configurations (default all)
//   --profile          also run one --cpu-prof'd 1×100 processing run per library
//   --no-results       do not overwrite bench/RESULTS.md
export const ALL_LIBS = ['ours', 'bullmq', 'beequeue'];
export const ALL_GROUPS = ['enqueue', 'processing', 'latency', 'wire', 'reference'];

export function readConfig(argv = process.argv.slice(2), env = process.env) {
  const flags = new Map();
  for (const arg of argv) {
    const [k, v] = arg.replace(/^--/, '').split(/=(.*)/s, 2);
    flags.set(k, v ?? true);
  }
  const known = new Set(['quick', 'libs', 'only', 'proc', 'lib-source', 'profile', 'no-results', 'help']);
  for (const k of flags.keys()) if (!known.has(k)) throw new Error(`Unknown option --${k} (known: ${[...known].map((x) => `--${x}`).join(' ')})`);
  const quick = flags.has('quick');
  const n = int(env.BENCH_N, quick ? 5_000 : 50_000, 'BENCH_N');
  const runs = int(env.BENCH_RUNS, quick ? 1 : 3, 'BENCH_RUNS');
  const libs = list(flags.get('libs'), ALL_LIBS, '--libs');
  const groups = list(flags.get('only'), ALL_GROUPS, '--only');
  const proc = list(flags.get('proc'), ['1x1', '1x10', '1x100', '2x100', 'drop', 'semi2'], '--proc');
  const libSource = flags.get('lib-source') ?? env.BENCH_LIB_SOURCE ?? 'worktree';
  return {
    help: flags.has('help'),
    quick,
    n,
    runs,
    libs,
    groups,
    proc,
    libSource,
    profile: flags.has('profile'),
    writeResults: !flags.has('no-results'),
    inflight: 100,
    chunk: 1_000,
    latencyCount: 2_000,
    latencyWarmup: 100,
    redisBenchmarkN: 200_000,
  };
}

function int(value, fallback, name) {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got ${value}`);
  return n;
}

function list(value, all, name) {
  if (value === undefined || value === true) return all;
  const items = String(value).split(',').map((s) => s.trim()).filter(Boolean);
  for (const i of items) if (!all.includes(i)) throw new Error(`${name}: unknown "${i}" (known: ${all.join(', ')})`);
  return items;
}

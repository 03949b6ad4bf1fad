// Worker processes of the multi-process tests (test/fixtures/worker-app/main.mjs, which loads the
// built package: `npm run build` first): spawned, stopped with SIGTERM, and always reaped (SIGKILL
// as a last resort), even when a test fails.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';

const WORKER = fileURLToPath(new URL('../../fixtures/worker-app/main.mjs', import.meta.url));
const DIST = fileURLToPath(new URL('../../../dist/index.js', import.meta.url));

export interface WorkerEnv {
  REDIS_URL: string;
  TQ_PREFIX: string;
  SCHEDULE_EVERY_MS?: string;
  CATCH_UP?: 'none' | 'last';
  RATE_LIMIT?: string;
  CONCURRENCY?: string;
  GRACE_MS?: string;
}

export interface WorkerProc {
  pid: number;
  child: ChildProcess;
  output: string[];
  spawnedAt: number;
  /** Epoch ms when READY was printed (0 until then). */
  readyAt: number;
  /** Epoch ms when 'Scheduler running' was printed: just after its catch-up (0 until then). */
  schedulerAt: number;
  /** Resolves when the worker printed READY; rejects if it exits first. */
  ready: Promise<void>;
  /** Resolves with the exit code (null when killed by a signal) and the signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export class WorkerProcs {
  readonly all: WorkerProc[] = [];

  constructor() {
    if (!existsSync(DIST)) throw new Error(`${DIST} is missing: run \`npm run build\` first`);
  }

  spawn(env: WorkerEnv): WorkerProc {
    // The children must not inherit jest's --experimental-vm-modules.
    const { NODE_OPTIONS: _ignored, ...rest } = process.env;
    const spawnedAt = Date.now();
    const child = spawn(process.execPath, [WORKER], {
      env: { ...rest, ...env, NO_COLOR: '1' },
      // stdin stays open: the worker exits by itself when it closes (if this process dies).
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    if (child.pid === undefined) throw new Error('could not spawn a worker process');
    const output: string[] = [];
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const proc: WorkerProc = { pid: child.pid, child, output, spawnedAt, readyAt: 0, schedulerAt: 0, ready: Promise.resolve(), exited };
    proc.ready = new Promise<void>((resolve, reject) => {
      child.stdout?.on('data', (d: Buffer) => {
        output.push(String(d));
        if (proc.schedulerAt === 0 && output.join('').includes('Scheduler running')) proc.schedulerAt = Date.now();
        if (proc.readyAt === 0 && output.join('').includes(`READY ${child.pid}`)) {
          proc.readyAt = Date.now();
          resolve();
        }
      });
      child.stderr?.on('data', (d: Buffer) => output.push(String(d)));
      void exited.then(() => reject(new Error(`worker ${child.pid} exited before it was ready${tail(output)}`)));
    });
    proc.ready.catch(() => undefined); // reported by whoever awaits it
    this.all.push(proc);
    return proc;
  }

  /** Starts `count` workers at once and waits (at most timeoutMs) until all print READY. */
  async start(count: number, env: WorkerEnv, timeoutMs = 10_000): Promise<WorkerProc[]> {
    const started = Array.from({ length: count }, () => this.spawn(env));
    await withTimeout(Promise.all(started.map((w) => w.ready)), timeoutMs, () => `workers not ready\n${this.logs()}`);
    return started;
  }

  /** SIGTERM to each (all at once); resolves with their exit codes. SIGKILL after timeoutMs. */
  async terminate(procs: readonly WorkerProc[], timeoutMs = 10_000): Promise<(number | null)[]> {
    return Promise.all(
      procs.map(async (w) => {
        if (isRunning(w.child)) w.child.kill('SIGTERM');
        const timer = setTimeout(() => w.child.kill('SIGKILL'), timeoutMs);
        try {
          return (await w.exited).code;
        } finally {
          clearTimeout(timer);
        }
      }),
    );
  }

  /** Every process started here is gone when this resolves. For afterEach. */
  async killAll(): Promise<void> {
    await Promise.all(
      this.all.map(async (w) => {
        if (isRunning(w.child)) w.child.kill('SIGKILL');
        await w.exited;
      }),
    );
  }

  logs(): string {
    return this.all.map((w) => `--- worker ${w.pid}${tail(w.output)}`).join('\n');
  }
}

export function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

function tail(output: string[]): string {
  return `\n${output.join('').slice(-3000)}`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(ms, 0)));
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, describe: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not done within ${ms} ms: ${describe()}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves when check() is true; throws after timeoutMs. Tests only. */
export async function until(check: () => Promise<boolean>, timeoutMs: number, describe: () => string | Promise<string>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not reached within ${timeoutMs} ms: ${await describe()}`);
    await sleep(25);
  }
}

/** Deletes every key under `${prefix}:` (this test's own keys only; never a flush). */
export async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}

/** Hashes of every task whose id starts with `idPrefix` in the queue, by task id. */
export async function taskHashes(
  redis: Redis,
  prefix: string,
  idPrefix: string,
  queue = 'default',
): Promise<Map<string, Record<string, string>>> {
  const keyPrefix = `${prefix}:{${queue}}:t:`;
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${keyPrefix}${idPrefix}*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...found);
  } while (cursor !== '0');
  const out = new Map<string, Record<string, string>>();
  for (const key of [...new Set(keys)]) out.set(key.slice(keyPrefix.length), await redis.hgetall(key));
  return out;
}

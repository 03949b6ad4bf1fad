// Worker processes of the chaos tests (test/fixtures/chaos-app/worker.mjs, which loads dist/):
// spawned, SIGKILLed and always reaped, even when a test fails.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { settleWithin } from './time.js';

const WORKER = fileURLToPath(new URL('../../fixtures/chaos-app/worker.mjs', import.meta.url));
const DIST = fileURLToPath(new URL('../../../dist/index.js', import.meta.url));
const READY_WITHIN_MS = 20_000;

export interface WorkerEnv {
  REDIS_URL: string;
  TQ_PREFIX: string;
  CHAOS_CONCURRENCY?: string;
  CHAOS_LEASE_MS?: string;
  CHAOS_GRACE_MS?: string;
  CHAOS_MAX_DELIVERIES?: string;
}

export interface WorkerProc {
  pid: number;
  child: ChildProcess;
  output: string[];
  /** Resolves when the worker consumes; rejects if it exits first. */
  ready: Promise<void>;
  exited: Promise<void>;
  killed: boolean;
}

export class WorkerPool {
  readonly all: WorkerProc[] = [];

  constructor(private readonly env: WorkerEnv) {
    if (!existsSync(DIST)) throw new Error(`${DIST} is missing: run \`npm run build\` first`);
  }

  get alive(): WorkerProc[] {
    return this.all.filter((w) => isRunning(w.child));
  }

  spawn(): WorkerProc {
    // The children must not inherit jest's --experimental-vm-modules.
    const { NODE_OPTIONS: _ignored, ...rest } = process.env;
    const child = spawn(process.execPath, [WORKER], {
      env: { ...rest, ...this.env, NO_COLOR: '1' },
      // stdin stays open: the worker exits by itself when it closes (if this process dies).
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    if (child.pid === undefined) throw new Error('could not spawn a worker process');
    const output: string[] = [];
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const ready = new Promise<void>((resolve, reject) => {
      child.stdout?.on('data', (d: Buffer) => {
        output.push(String(d));
        if (String(d).includes('chaos-worker ready')) resolve();
      });
      child.stderr?.on('data', (d: Buffer) => output.push(String(d)));
      void exited.then(() => reject(new Error(`worker ${child.pid} exited before it was ready${tail(output)}`)));
    });
    ready.catch(() => undefined); // a worker killed while booting is not an error by itself
    const proc: WorkerProc = { pid: child.pid, child, output, ready, exited, killed: false };
    this.all.push(proc);
    return proc;
  }

  async start(count: number): Promise<WorkerProc[]> {
    const started = Array.from({ length: count }, () => this.spawn());
    if (!(await settleWithin(Promise.all(started.map((w) => w.ready)), READY_WITHIN_MS))) {
      throw new Error(`workers not ready within ${READY_WITHIN_MS} ms\n${this.logs()}`);
    }
    return started;
  }

  async kill(proc: WorkerProc): Promise<void> {
    proc.killed = true;
    proc.child.kill('SIGKILL');
    await proc.exited;
  }

  /** Every process this pool started is gone when this resolves. */
  async stopAll(): Promise<void> {
    await Promise.all(
      this.all.map(async (w) => {
        if (isRunning(w.child)) w.child.kill('SIGKILL');
        await w.exited;
      }),
    );
  }

  /** Lines of every worker's output that contain the text. */
  lines(text: string): string[] {
    return this.all.flatMap((w) => w.output.join('').split('\n').filter((l) => l.includes(text)));
  }

  logs(): string {
    return this.all.map((w) => `--- worker ${w.pid}${w.killed ? ' (killed)' : ''}${tail(w.output)}`).join('\n');
  }
}

export function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

function tail(output: string[]): string {
  return `\n${output.join('').slice(-3000)}`;
}

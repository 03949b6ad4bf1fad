// Child processes of the bench: each role runs in a fresh Node process (bench/lib/child.mjs),
// driven over IPC. Every child is tracked and killed on exit or failure; a child whose parent
// goes away exits by itself (it watches its IPC channel).
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./child.mjs', import.meta.url));
const live = new Set();
/** Other pids to SIGKILL on exit (the redis-server). */
const extraPids = new Set();

export function killAllNow() {
  for (const c of live) c.kill();
  for (const pid of extraPids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

export function trackPid(pid) {
  extraPids.add(pid);
  return () => extraPids.delete(pid);
}

let installed = false;
/** Kills every child on exit, on Ctrl-C / SIGTERM, and on an uncaught error. */
export function installCleanup() {
  if (installed) return;
  installed = true;
  process.on('exit', killAllNow);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      process.stderr.write(`\n${sig}: stopping every child process\n`);
      killAllNow();
      process.exit(130);
    });
  }
}

export class Child {
  /**
   * @param {string} label for error messages
   * @param {object} init the role and its settings, sent as the first IPC message
   * @param {{ execArgv?: string[], env?: Record<string,string> }} [options]
   */
  constructor(label, init, options = {}) {
    this.label = label;
    this.messages = [];
    this.waiters = [];
    this.listeners = new Map();
    this.output = '';
    // Rejects when the child reports an error or exits before stop(): race it against a wait.
    this.failed = new Promise((_, reject) => (this.rejectFailed = reject));
    this.failed.catch(() => undefined);
    this.proc = fork(CHILD, [], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      execArgv: options.execArgv ?? [],
      env: { ...process.env, ...(options.env ?? {}) },
    });
    live.add(this);
    const keep = (d) => {
      this.output = (this.output + d).slice(-6000);
    };
    this.proc.stdout.on('data', keep);
    this.proc.stderr.on('data', keep);
    this.exited = new Promise((resolve) =>
      this.proc.once('exit', (code, signal) => {
        live.delete(this);
        this.exitCode = code ?? signal;
        this.failAll(new Error(`${this.label} exited (${code ?? signal}) before answering.\n${this.tail()}`));
        resolve(code ?? signal);
      }),
    );
    this.proc.on('message', (m) => this.onMessage(m));
    this.proc.send(init);
  }

  tail() {
    return this.output.trim() ? `--- ${this.label} output ---\n${this.output.trim()}` : '';
  }

  onMessage(m) {
    if (m.type === 'error') {
      this.failAll(new Error(`${this.label}: ${m.message}\n${this.tail()}`));
      return;
    }
    const fn = this.listeners.get(m.type);
    if (fn) return fn(m);
    const i = this.waiters.findIndex((w) => w.type === m.type);
    if (i >= 0) {
      const [w] = this.waiters.splice(i, 1);
      clearTimeout(w.timer);
      w.resolve(m);
    } else this.messages.push(m);
  }

  failAll(err) {
    this.failure ??= err;
    if (!this.stopping) this.rejectFailed(err);
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(err);
    }
  }

  /** Calls fn for every message of this type (instead of queueing it). */
  on(type, fn) {
    this.listeners.set(type, fn);
  }

  /** The next message of this type; rejects on the child's error or exit, or after timeoutMs. */
  next(type, timeoutMs) {
    const i = this.messages.findIndex((m) => m.type === type);
    if (i >= 0) return Promise.resolve(this.messages.splice(i, 1)[0]);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.timer !== timer);
        reject(new Error(`${this.label}: no "${type}" within ${timeoutMs} ms\n${this.tail()}`));
      }, timeoutMs);
      this.waiters.push({ type, resolve, reject, timer });
    });
  }

  send(message) {
    if (this.proc.connected) this.proc.send(message);
  }

  /** Asks the child to finish and waits for it to exit (SIGKILL after timeoutMs). */
  async stop(timeoutMs = 10_000) {
    if (this.exitCode !== undefined) return;
    this.stopping = true;
    this.send({ cmd: 'exit' });
    const timer = setTimeout(() => this.kill(), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  kill() {
    if (this.exitCode === undefined) this.proc.kill('SIGKILL');
  }
}

/** Runs fn with the children it creates, and kills whatever of them is left afterwards. */
export async function withChildren(fn) {
  const mine = [];
  const spawn = (label, init, options) => {
    const c = new Child(label, init, options);
    mine.push(c);
    return c;
  };
  try {
    return await fn(spawn);
  } finally {
    for (const c of mine) c.kill();
    await Promise.all(mine.map((c) => c.exited));
  }
}

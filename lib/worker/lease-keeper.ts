/**
 * Keeps the leases of running tasks alive from a worker thread (see lease-keeper.thread.mjs),
 * so that renewals do not depend on the main event loop. If the process dies, the thread dies
 * with it and the leases run out: that is how another worker gets the tasks back.
 */
import { Worker as Thread } from 'node:worker_threads';
import type { ConnectionSpec } from '../connection/connection-spec.js';

export class LeaseKeeper {
  private readonly thread: Thread;
  private pending: [key: string, id: string, delta: 1 | -1][] = [];

  constructor(connection: ConnectionSpec, leaseMs: number, onError: (err: Error) => void, onReady?: () => void) {
    this.thread = new Thread(new URL('./lease-keeper.thread.mjs', import.meta.url), {
      // It holds a set of ids and one connection: a small heap is plenty, and keeps the worker's RSS down.
      resourceLimits: { maxOldGenerationSizeMb: 24, maxYoungGenerationSizeMb: 4 },
      workerData: { connection: threadConnection(connection), leaseMs, intervalMs: Math.max(Math.floor(leaseMs / 3), 50) },
    });
    this.thread.on('error', onError);
    // The thread's own Redis trouble (refused login, TLS) is said here, where logging happens.
    this.thread.on('message', (message: { op?: string; error?: string }) => {
      if (message.op === 'error') onError(new Error(message.error ?? 'unknown error'));
      if (message.op === 'ready') onReady?.();
    });
    // The thread must not keep a finished process alive.
    this.thread.unref();
  }

  hold(activeKey: string, id: string): void {
    this.queueChange(activeKey, id, 1);
  }

  release(activeKey: string, id: string): void {
    this.queueChange(activeKey, id, -1);
  }

  /** Changes of one tick travel in one message: posting to a thread costs more than a task's bookkeeping. */
  private queueChange(key: string, id: string, delta: 1 | -1): void {
    this.pending.push([key, id, delta]);
    if (this.pending.length === 1) setImmediate(this.flush);
  }

  /** Sends queued changes now. Holds must reach the thread before a handler can block the loop. */
  readonly flush = (): void => {
    const changes = this.pending;
    this.pending = [];
    if (changes.length > 0) this.thread.postMessage({ op: 'changes', changes });
  };

  /** Stops renewing at once: the thread holds nothing that needs a clean goodbye. */
  async close(): Promise<void> {
    await this.thread.terminate();
  }
}

/**
 * The connection spec as the lease-keeper thread gets it. Functions (a retryStrategy, a
 * tls.checkServerIdentity) cannot cross to a thread: they are left out, at any depth, and the
 * thread uses ioredis' and Node's defaults for them. Throws when something else cannot be copied.
 */
export function threadConnection(connection: ConnectionSpec): ConnectionSpec {
  if (typeof connection === 'string') return connection;
  const copy = withoutFunctions(connection) as ConnectionSpec;
  structuredClone(copy); // throws DataCloneError for what a thread cannot receive
  return copy;
}

function withoutFunctions(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return value;
  if (Array.isArray(value)) return value.filter((v) => typeof v !== 'function').map(withoutFunctions);
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) if (typeof v !== 'function') out[key] = withoutFunctions(v);
  return out;
}

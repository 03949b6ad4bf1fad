/**
 * Keeps the leases of running tasks alive from a worker thread (see lease-keeper.thread.mjs),
 * so that renewals do not depend on the main event loop. If the process dies, the thread dies
 * with it and the leases run out: that is how another worker gets the tasks back.
 */
import { Worker as Thread } from 'node:worker_threads';
import type { ConnectionSpec } from '../connection/connection-spec.js';
import { HoldTable } from './hold-table.js';

/** The table slot of a hold, or -1 when it was posted to the thread instead (table full). */
export type LeaseHold = number;

export class LeaseKeeper {
  private readonly thread: Thread;
  private readonly table: HoldTable;
  /** Holds that found the table full travel as messages instead (see HoldTable). */
  private overflow: [key: string, id: string, delta: 1 | -1][] = [];

  /** `activeKeys`: the active sets of the queues whose tasks this worker may hold. */
  constructor(
    connection: ConnectionSpec,
    leaseMs: number,
    activeKeys: readonly string[],
    slots: number,
    onError: (err: Error) => void,
    onReady?: () => void,
  ) {
    this.table = new HoldTable(activeKeys, slots);
    this.thread = new Thread(new URL('./lease-keeper.thread.mjs', import.meta.url), {
      // It holds a set of ids and one connection: a small heap is plenty, and keeps the worker's RSS down.
      resourceLimits: { maxOldGenerationSizeMb: 24, maxYoungGenerationSizeMb: 4 },
      workerData: {
        connection: threadConnection(connection),
        leaseMs,
        intervalMs: Math.max(Math.floor(leaseMs / 3), 50),
        table: this.table.shared(),
      },
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

  /**
   * From now on the thread renews this task's lease. Written to shared memory at once, with no
   * message and no wake-up of the thread: it reads the table when it renews, even while a
   * handler blocks this thread's event loop. Returns what release() needs.
   */
  hold(activeKey: string, id: string): LeaseHold {
    const slot = this.table.hold(activeKey, id);
    if (slot < 0) this.queueOverflow(activeKey, id, 1);
    return slot;
  }

  release(activeKey: string, id: string, hold: LeaseHold): void {
    if (hold >= 0) this.table.release(hold);
    else this.queueOverflow(activeKey, id, -1);
  }

  private queueOverflow(key: string, id: string, delta: 1 | -1): void {
    this.overflow.push([key, id, delta]);
    if (this.overflow.length === 1) setImmediate(this.flush);
  }

  /** Sends overflow changes now. Holds must reach the thread before a handler can block the loop. */
  readonly flush = (): void => {
    const changes = this.overflow;
    this.overflow = [];
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

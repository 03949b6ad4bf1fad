/**
 * Keeps the leases of running tasks alive from a worker thread (see lease-keeper.thread.mjs),
 * so that renewals do not depend on the main event loop. If the process dies, the thread dies
 * with it and the leases run out: that is how another worker gets the tasks back.
 */
import { Worker as Thread } from 'node:worker_threads';
import type { ConnectionSpec } from '../connection/connection-spec.js';

export class LeaseKeeper {
  private readonly thread: Thread;

  constructor(connection: ConnectionSpec, leaseMs: number, onError: (err: Error) => void) {
    this.thread = new Thread(new URL('./lease-keeper.thread.mjs', import.meta.url), {
      workerData: { connection: cloneable(connection), leaseMs, intervalMs: Math.max(Math.floor(leaseMs / 3), 50) },
    });
    this.thread.on('error', onError);
    // The thread must not keep a finished process alive.
    this.thread.unref();
  }

  hold(activeKey: string, id: string): void {
    this.thread.postMessage({ op: 'add', key: activeKey, id });
  }

  release(activeKey: string, id: string): void {
    this.thread.postMessage({ op: 'remove', key: activeKey, id });
  }

  /** Stops renewing at once: the thread holds nothing that needs a clean goodbye. */
  async close(): Promise<void> {
    await this.thread.terminate();
  }
}

/** Functions (a retryStrategy, say) cannot cross to a thread; the thread uses ioredis' defaults for them. */
function cloneable(connection: ConnectionSpec): ConnectionSpec {
  if (typeof connection === 'string') return connection;
  return Object.fromEntries(Object.entries(connection).filter(([, value]) => typeof value !== 'function'));
}

// The lease keeper's thread: renews the leases of the tasks its worker process runs, on its
// own event loop and its own Redis connection, so that a handler blocking the main event loop
// (a CPU-bound loop) does not lose its lease while its process is alive. Plain JavaScript:
// a worker thread loads a file, and this one must run from lib/ (tests) and dist/ alike.
import { parentPort, workerData } from 'node:worker_threads';
import { Redis } from 'ioredis';

const { connection, leaseMs, intervalMs } = workerData;
const options = { connectionName: 'tq:leases', maxRetriesPerRequest: 1 };
const redis = typeof connection === 'string' ? new Redis(connection, options) : new Redis({ ...connection, ...options });
// ioredis reconnects by itself; the main thread logs the first error of each outage and the recovery.
let failing = false;
redis.on('error', (err) => {
  if (failing) return;
  failing = true;
  parentPort.postMessage({ op: 'error', error: err.message });
});
redis.on('ready', () => {
  if (!failing) return;
  failing = false;
  parentPort.postMessage({ op: 'ready' });
});

/**
 * active zset key -> (id -> holds). Counted: a worker may briefly hold one task twice (a lease
 * that ran out came back to it while the old run was ending), and the first release must not
 * drop the second hold.
 */
const held = new Map();

parentPort.on('message', (message) => {
  if (message.op !== 'changes') return;
  for (const [key, id, delta] of message.changes) {
    let ids = held.get(key);
    if (!ids) held.set(key, (ids = new Map()));
    const count = (ids.get(id) ?? 0) + delta;
    if (count > 0) ids.set(id, count);
    else ids.delete(id);
    if (ids.size === 0) held.delete(key);
  }
});

const timer = setInterval(() => {
  const deadline = Date.now() + leaseMs;
  for (const [key, ids] of held) {
    const args = [];
    for (const id of ids.keys()) args.push(deadline, id);
    // XX: only tasks still leased; a finished or requeued task is not brought back.
    if (args.length > 0) redis.zadd(key, 'XX', ...args).catch(() => undefined);
  }
}, intervalMs);

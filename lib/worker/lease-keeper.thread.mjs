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
  let ids = held.get(message.key);
  if (message.op === 'add') {
    if (!ids) held.set(message.key, (ids = new Map()));
    ids.set(message.id, (ids.get(message.id) ?? 0) + 1);
  } else if (message.op === 'remove' && ids) {
    const left = (ids.get(message.id) ?? 1) - 1;
    if (left > 0) ids.set(message.id, left);
    else ids.delete(message.id);
    if (ids.size === 0) held.delete(message.key);
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

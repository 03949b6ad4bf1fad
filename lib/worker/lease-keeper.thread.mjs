// The lease keeper's thread: renews the leases of the tasks its worker process runs, on its
// own event loop and its own Redis connection, so that a handler blocking the main event loop
// (a CPU-bound loop) does not lose its lease while its process is alive. Plain JavaScript:
// a worker thread loads a file, and this one must run from lib/ (tests) and dist/ alike.
import { parentPort, workerData } from 'node:worker_threads';
import { Redis } from 'ioredis';

const { connection, leaseMs, intervalMs } = workerData;
const options = { connectionName: 'tq:leases', maxRetriesPerRequest: 1 };
const redis = typeof connection === 'string' ? new Redis(connection, options) : new Redis({ ...connection, ...options });
redis.on('error', () => {
  // ioredis reconnects by itself; the main thread reports Redis trouble.
});

/** active zset key -> ids this process holds */
const held = new Map();

parentPort.on('message', (message) => {
  if (message.op === 'add') {
    let ids = held.get(message.key);
    if (!ids) held.set(message.key, (ids = new Set()));
    ids.add(message.id);
  } else if (message.op === 'remove') {
    const ids = held.get(message.key);
    ids?.delete(message.id);
    if (ids?.size === 0) held.delete(message.key);
  }
});

const timer = setInterval(() => {
  const deadline = Date.now() + leaseMs;
  for (const [key, ids] of held) {
    const args = [];
    for (const id of ids) args.push(deadline, id);
    // XX: only tasks still leased; a finished or requeued task is not brought back.
    if (args.length > 0) redis.zadd(key, 'XX', ...args).catch(() => undefined);
  }
}, intervalMs);

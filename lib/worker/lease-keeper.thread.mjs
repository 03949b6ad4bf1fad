// The lease keeper's thread: renews the leases of the tasks its worker process runs, on its
// own event loop and its own Redis connection, so that a handler blocking the main event loop
// (a CPU-bound loop) does not lose its lease while its process is alive. Plain JavaScript:
// a worker thread loads a file, and this one must run from lib/ (tests) and dist/ alike.
import { parentPort, workerData } from 'node:worker_threads';
import { Redis } from 'ioredis';

const { connection, leaseMs, intervalMs, table } = workerData;
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
 * The holds the main thread writes to shared memory (see hold-table.ts for the layout), read
 * when renewing: active zset key -> ids.
 */
const ints = new Int32Array(table.buffer);
const bytes = new Uint8Array(table.buffer);
const decoder = new TextDecoder();

function tableHolds() {
  const byKey = new Map();
  for (let slot = 0; slot < table.slots; slot++) {
    const at = (slot * table.slotBytes) / 4;
    const before = Atomics.load(ints, at);
    if ((before & 1) === 0) continue;
    const key = table.keys[ints[at + 1]];
    const length = ints[at + 2];
    // slice() copies out of shared memory (TextDecoder refuses shared views).
    const start = slot * table.slotBytes + 12;
    const id = decoder.decode(bytes.slice(start, start + Math.min(Math.max(length, 0), table.slotBytes - 12)));
    // Changed while copied: released (nothing to renew) or taken again (renewed next time, well
    // within its lease, which starts at its fetch).
    if (Atomics.load(ints, at) !== before || key === undefined) continue;
    let ids = byKey.get(key);
    if (!ids) byKey.set(key, (ids = new Set()));
    ids.add(id);
  }
  return byKey;
}

/**
 * Holds that did not fit the table, posted by the main thread instead.
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
  const byKey = tableHolds();
  for (const [key, ids] of held) {
    let all = byKey.get(key);
    if (!all) byKey.set(key, (all = new Set()));
    for (const id of ids.keys()) all.add(id);
  }
  for (const [key, ids] of byKey) {
    const args = [];
    for (const id of ids) args.push(deadline, id);
    // XX: only tasks still leased; a finished or requeued task is not brought back.
    if (args.length > 0) redis.zadd(key, 'XX', ...args).catch(() => undefined);
  }
}, intervalMs);

// BullMQ 5, used as its docs show: Queue.add / addBulk, a Worker with a processor function,
// job.waitUntilFinished(queueEvents). Results kept = removeOnComplete false (its default),
// dropped = removeOnComplete true.
export const id = 'bullmq';
export const label = 'BullMQ';
const QUEUE = 'bench';
const K = `bull:${QUEUE}:`;

let loaded;
export async function preload() {
  loaded ??= await import('bullmq');
  return loaded;
}

const connectionOf = (port) => ({ host: '127.0.0.1', port });

export async function createProducer({ port, keep = true, events = false }) {
  const { Queue, QueueEvents } = await preload();
  const queue = new Queue(QUEUE, { connection: connectionOf(port) });
  await queue.waitUntilReady();
  let queueEvents;
  if (events) {
    queueEvents = new QueueEvents(QUEUE, { connection: connectionOf(port) });
    await queueEvents.waitUntilReady();
  }
  const opts = keep ? undefined : { removeOnComplete: true };
  return {
    sendOne: (p) => queue.add('noop', p, opts),
    async sendBulk(payloads) {
      const jobs = await queue.addBulk(payloads.map((p) => ({ name: 'noop', data: p, opts })));
      if (jobs.length !== payloads.length) throw new Error(`addBulk returned ${jobs.length} jobs`);
    },
    async sendAndWait(p, timeoutMs) {
      const job = await queue.add('noop', p);
      await job.waitUntilFinished(queueEvents, timeoutMs);
    },
    async close() {
      await queueEvents?.close();
      await queue.close();
    },
  };
}

export async function startWorker({ port, concurrency, onTask }) {
  const { Worker } = await preload();
  const worker = new Worker(
    QUEUE,
    async (job) => {
      onTask(job.data);
    },
    { connection: connectionOf(port), concurrency },
  );
  worker.on('error', (err) => process.stderr.write(`BullMQ worker error: ${err.message}\n`));
  await worker.waitUntilReady();
  return { close: () => worker.close() };
}

export async function verifyEnqueued(admin, n) {
  const waiting = await admin.llen(`${K}wait`);
  if (waiting !== n) throw new Error(`${waiting} jobs waiting, expected ${n}`);
}

export async function verifyProcessed(admin, n, keep) {
  const [waiting, active, failed, completed, prioritized, delayed] = await Promise.all([
    admin.llen(`${K}wait`),
    admin.llen(`${K}active`),
    admin.zcard(`${K}failed`),
    admin.zcard(`${K}completed`),
    admin.zcard(`${K}prioritized`),
    admin.zcard(`${K}delayed`),
  ]);
  if (waiting + active + prioritized + delayed !== 0) {
    throw new Error(`not drained: wait=${waiting} active=${active} prioritized=${prioritized} delayed=${delayed}`);
  }
  if (failed !== 0) throw new Error(`${failed} failed jobs`);
  const expected = keep ? n : 0;
  if (completed !== expected) throw new Error(`${completed} completed jobs kept, expected ${expected}`);
}

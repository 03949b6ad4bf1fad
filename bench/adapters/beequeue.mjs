// bee-queue 2, used as its README shows: createJob().save(), saveAll(), queue.process(),
// job.on('succeeded'). Producers that need no events are created with isWorker/getEvents
// false, as the README recommends. Results kept = removeOnSuccess false (its default).
export const id = 'beequeue';
export const label = 'bee-queue';
const QUEUE = 'bench';
const K = `bq:${QUEUE}:`;

let loaded;
export async function preload() {
  loaded ??= (await import('bee-queue')).default;
  return loaded;
}

const redisOf = (port) => ({ host: '127.0.0.1', port });

export async function createProducer({ port, events = false }) {
  const Queue = await preload();
  const queue = new Queue(QUEUE, {
    redis: redisOf(port),
    isWorker: false,
    getEvents: events,
    storeJobs: events,
    sendEvents: false,
  });
  await queue.ready();
  const waiting = new Map();
  const early = new Set();
  if (events) {
    queue.on('job succeeded', (id) => {
      const resolve = waiting.get(id);
      if (resolve) resolve();
      else if (!queue.jobs.has(id)) early.add(id);
    });
  }
  return {
    sendOne: (p) => queue.createJob(p).save(),
    async sendBulk(payloads) {
      const errors = await queue.saveAll(payloads.map((p) => queue.createJob(p)));
      if (errors.size > 0) throw new Error(`saveAll: ${errors.size} job(s) failed: ${[...errors.values()][0]}`);
    },
    async sendAndWait(p, timeoutMs) {
      const job = queue.createJob(p);
      const succeeded = new Promise((resolve, reject) => {
        job.on('succeeded', resolve);
        job.on('failed', reject);
      });
      await job.save();
      // bee-queue registers the job for its events only once save() has returned; on an idle
      // worker the 'succeeded' message sometimes wins that race and job.on('succeeded') never
      // fires. The queue-level 'job succeeded' event (emitted first, for every job) covers it.
      if (early.delete(job.id)) return;
      let timer;
      try {
        await Promise.race([
          succeeded,
          new Promise((resolve) => waiting.set(job.id, resolve)),
          new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`job not done within ${timeoutMs} ms`)), timeoutMs))),
        ]);
      } finally {
        clearTimeout(timer);
        waiting.delete(job.id);
      }
    },
    close: () => queue.close(),
  };
}

export async function startWorker({ port, concurrency, keep = true, onTask }) {
  const Queue = await preload();
  const queue = new Queue(QUEUE, { redis: redisOf(port), removeOnSuccess: !keep });
  queue.on('error', (err) => process.stderr.write(`bee-queue error: ${err.message}\n`));
  await queue.ready();
  queue.process(concurrency, async (job) => {
    onTask(job.data);
  });
  return { close: () => queue.close(10_000) };
}

export async function verifyEnqueued(admin, n) {
  const waiting = await admin.llen(`${K}waiting`);
  if (waiting !== n) throw new Error(`${waiting} jobs waiting, expected ${n}`);
}

export async function verifyProcessed(admin, n, keep) {
  const [waiting, active, failed, succeeded, jobs, delayed] = await Promise.all([
    admin.llen(`${K}waiting`),
    admin.llen(`${K}active`),
    admin.scard(`${K}failed`),
    admin.scard(`${K}succeeded`),
    admin.hlen(`${K}jobs`),
    admin.zcard(`${K}delayed`),
  ]);
  if (waiting + active + delayed !== 0) throw new Error(`not drained: waiting=${waiting} active=${active} delayed=${delayed}`);
  if (failed !== 0) throw new Error(`${failed} failed jobs`);
  const expected = keep ? n : 0;
  if (succeeded !== expected) throw new Error(`${succeeded} succeeded jobs recorded, expected ${expected}`);
  if (jobs !== expected) throw new Error(`${jobs} job hashes kept, expected ${expected}`);
}

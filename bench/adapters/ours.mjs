// nestjs-taskqueue, used as its users use it: producers inject TaskClient from a Nest app
// context; workers are booted by bootstrapWorker(AppModule). The build under test is the one
// bench/lib/build-lib.mjs made (BENCH_OURS_ENTRY), not whatever is in dist/ right now.
import { countKeys } from '../lib/redis-admin.mjs';
import { QUEUE, TASK_DROP, TASK_KEEP } from './ours-app.mjs';

export const id = 'ours';
export const label = 'nestjs-taskqueue';
const K = `tq:{${QUEUE}}:`;
const NEST_LOGGER = ['error', 'warn'];

let loaded;
export async function preload() {
  if (!loaded) {
    const entry = process.env.BENCH_OURS_ENTRY;
    if (!entry) throw new Error('BENCH_OURS_ENTRY is not set (bench/run.mjs sets it)');
    const [tq, core, app] = await Promise.all([import(entry), import('@nestjs/core'), import('./ours-app.mjs')]);
    loaded = { tq, NestFactory: core.NestFactory, makeAppModule: app.makeAppModule };
  }
  return loaded;
}

export async function createProducer({ url, keep = true }) {
  const { tq, NestFactory, makeAppModule } = await preload();
  const app = await NestFactory.createApplicationContext(makeAppModule(tq, { url, onTask: () => {} }), {
    logger: NEST_LOGGER,
  });
  await app.init();
  const client = app.get(tq.TaskClient);
  const name = keep ? TASK_KEEP : TASK_DROP;
  return {
    sendOne: (p) => client.send(name, [p]),
    async sendBulk(payloads) {
      const handles = await client.sendMany(payloads.map((p) => ({ name, args: [p] })));
      if (handles.length !== payloads.length) throw new Error(`sendMany returned ${handles.length} handles`);
    },
    async sendAndWait(p, timeoutMs) {
      const handle = await client.send(TASK_KEEP, [p]);
      await handle.result({ timeout: timeoutMs });
    },
    close: () => app.close(),
  };
}

export async function startWorker({ url, concurrency, onTask }) {
  const { tq, makeAppModule } = await preload();
  const running = await tq.bootstrapWorker(makeAppModule(tq, { url, onTask, concurrency }), {
    handleSignals: false,
    concurrency,
    queues: [QUEUE],
    logger: NEST_LOGGER,
  });
  return { close: () => running.close() };
}

export async function verifyEnqueued(admin, n) {
  const waiting = await admin.llen(`${K}wait`);
  if (waiting !== n) throw new Error(`${waiting} tasks waiting, expected ${n}`);
}

export async function verifyProcessed(admin, n, keep) {
  const [waiting, active, delayed] = await Promise.all([
    admin.llen(`${K}wait`),
    // Leases have finite deadlines; the index's one +inf member is not a task (see fetch.lua).
    admin.zcount(`${K}active`, '-inf', '(+inf'),
    admin.zcard(`${K}delayed`),
  ]);
  if (waiting + active + delayed !== 0) {
    throw new Error(`not drained: wait=${waiting} active=${active} delayed=${delayed}`);
  }
  const dead = await admin.hlen(`${K}dead`);
  if (dead !== 0) throw new Error(`${dead} dead-lettered task(s)`);
  if (!keep) {
    const left = await countKeys(admin, `${K}t:*`);
    if (left !== 0) throw new Error(`${left} task hashes left with ignoreResult`);
    return;
  }
  let success = 0;
  let cursor = '0';
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', `${K}t:*`, 'COUNT', 5000);
    cursor = next;
    const pipe = admin.pipeline();
    for (const k of keys) pipe.hget(k, 'st');
    for (const [err, st] of (await pipe.exec()) ?? []) if (!err && st === 'SUCCESS') success++;
  } while (cursor !== '0');
  if (success !== n) throw new Error(`${success} tasks in state SUCCESS, expected ${n}`);
}

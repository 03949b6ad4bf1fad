// Reads what the chaos worker recorded (see test/fixtures/chaos-app/worker.mjs for the keys) and
// the tasks' own state in the queue's Redis hashes.
import type { Redis } from 'ioredis';
import { leaseCount } from '../../support/test-redis.js';

export interface Execution {
  pid: number;
  /** Unique per execution. */
  run: string;
  ended: boolean;
}

export interface Records {
  /** task id -> its executions, in start order */
  executions: Map<string, Execution[]>;
  /** task id -> most executions seen running at once */
  maxRunning: Map<string, number>;
  /** Records that ioredis sent again after a reconnect (Redis had run them; the reply was lost). */
  replayed: number;
}

export async function readRecords(redis: Redis, prefix: string): Promise<Records> {
  const k = `${prefix}:chaos:`;
  const [log, maxrun] = await Promise.all([redis.lrange(`${k}log`, 0, -1), redis.hgetall(`${k}maxrun`)]);
  const executions = new Map<string, Execution[]>();
  let replayed = 0;
  for (const entry of log) {
    const [kind, id, pid, run] = entry.split(' ') as [string, string, string, string];
    if (kind === 'R') {
      replayed++;
      continue;
    }
    const list = executions.get(id) ?? [];
    if (kind === 'S') list.push({ pid: Number(pid), run, ended: false });
    else {
      const started = list.find((e) => e.run === run);
      if (started) started.ended = true;
    }
    executions.set(id, list);
  }
  return { replayed, executions, maxRunning: new Map(Object.entries(maxrun).map(([id, n]) => [id, Number(n)])) };
}

export interface TaskState {
  state: string | null;
  result: unknown;
  deliveries: number;
}

/** The state, result and delivery count of each task, from its hash in the default queue. */
export async function readTasks(redis: Redis, prefix: string, ids: readonly string[]): Promise<Map<string, TaskState>> {
  const pipeline = redis.pipeline();
  for (const id of ids) pipeline.hmget(`${prefix}:{default}:t:${id}`, 'st', 'res', 'dlv');
  const replies = (await pipeline.exec()) ?? [];
  const out = new Map<string, TaskState>();
  ids.forEach((id, i) => {
    const [err, values] = replies[i] ?? [new Error('no reply'), null];
    if (err) throw err;
    const [st, res, dlv] = values as (string | null)[];
    out.set(id, { state: st, result: res === null ? undefined : (JSON.parse(res) as unknown), deliveries: Number(dlv ?? 0) });
  });
  return out;
}

export async function countFinal(redis: Redis, prefix: string, ids: readonly string[]): Promise<number> {
  const pipeline = redis.pipeline();
  for (const id of ids) pipeline.hget(`${prefix}:{default}:t:${id}`, 'st');
  const replies = (await pipeline.exec()) ?? [];
  return replies.filter(([, st]) => st === 'SUCCESS' || st === 'FAILURE' || st === 'REVOKED').length;
}

/** What is left in the default queue's lists (all zero once everything settled). */
export async function queueResidue(redis: Redis, prefix: string): Promise<{ wait: number; active: number; dead: number }> {
  const q = `${prefix}:{default}:`;
  const [wait, active, dead] = await Promise.all([redis.llen(`${q}wait`), leaseCount(redis, `${q}active`), redis.hlen(`${q}dead`)]);
  return { wait, active, dead };
}

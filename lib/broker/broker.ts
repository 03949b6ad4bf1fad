/**
 * The broker: every change of a queue's data goes through here, and each multi-key change is
 * one Lua script (see scripts/*.lua for the keys each one touches). Nobody else writes queue keys.
 */
import type { Redis } from 'ioredis';
import { guarded } from '../connection/redis-errors.js';
import { Completions } from './completions.js';
import { DeadLetterQueue } from './dead-letters.js';
import { QueueKeys } from './keys.js';
import { loadScripts, scripts } from './lua-script.js';

export interface EnqueueItem {
  id: string;
  /** The envelope, already serialised. */
  body: string;
  /** Epoch ms when the task becomes due; 0 or past means now. */
  due: number;
  /** Epoch ms after which it must not start; 0 means never. */
  expires?: number;
  /** 0 (default) to 9; higher runs first. */
  priority?: number;
  /** The task's name (also in the message). */
  task: string;
  /** The id was generated for this send, so no task can have it yet: Redis need not look. */
  newId?: boolean;
}

export interface FetchedTask {
  queue: string;
  id: string;
  /** The raw envelope, or '' when the task's hash was missing. */
  body: string;
  /** Proves the lease when the outcome is committed. */
  token: string;
  delivery: number;
  /** Retries already made (0 on the first run). */
  retries: number;
  /** A rate-limit start slot held from an earlier deferral (epoch ms), or 0. */
  reservation: number;
  /** When it was handed to this worker by its enqueue (epoch ms), for a task not fetched. */
  handedAt?: number;
}

export interface LeaseTerms {
  leaseMs: number;
  workerId: string;
  /** A message handed out more often than this is dead-lettered. */
  maxDeliveries: number;
  resultTtlSec: number;
  /**
   * For a worker that takes hand-offs (tasks given to it by their enqueue while it waits idle):
   * how long its registration as idle holds after a fetch that leaves it waiting. Left out: none.
   */
  idleMs?: number;
}

/** A worker's entry in a queue's idle zset, as fetch.lua writes it from the lease it asks for. */
function idleMember(leaseMs: number, workerId: string): string {
  return `${leaseMs} ${workerId}`;
}

export interface FetchResult {
  tasks: FetchedTask[];
  /** No ready task is left in the queue (as far as this fetch saw). */
  drained: boolean;
  /** Epoch ms of the earliest delayed task of this queue, or null when none (or not drained). */
  nextDue: number | null;
}

/** What Redis holds of one task (see Broker.readTask). */
export interface TaskRecord {
  values: (string | null)[];
  message: string | null;
  hasHash: boolean;
}

/** What a commit takes from the task's message (its hash has none of it: see enqueue.lua). */
export interface SentBy {
  /** The sender's reply channel (see ReplyInbox), or ''. */
  reply: string;
  name: string;
  /** When it was sent, epoch ms as text, or ''. */
  createdAt: string;
}

export type Outcome =
  | { state: 'SUCCESS'; resultJson: string }
  | { state: 'FAILURE' | 'REVOKED'; errorJson: string };

export class Broker {
  private readonly keyCache = new Map<string, QueueKeys>();
  private readonly completions: Completions;

  constructor(
    private readonly redis: Redis,
    readonly prefix: string,
    /** Where Redis is (no credentials), for errors. */
    private readonly where = 'Redis',
  ) {
    this.completions = new Completions(redis, (queue) => this.keys(queue));
  }

  keys(queue: string): QueueKeys {
    let keys = this.keyCache.get(queue);
    if (!keys) {
      keys = new QueueKeys(this.prefix, queue);
      this.keyCache.set(queue, keys);
    }
    return keys;
  }

  /**
   * Revokes a task: one not started never runs; a running one is flagged and, with terminate,
   * its worker is told to abort it. Returns 'revoked', 'running' or 'final' (nothing to do).
   */
  async revoke(
    queue: string,
    id: string,
    reason: string,
    terminate: boolean,
    resultTtlSec: number,
  ): Promise<'revoked' | 'running' | 'final'> {
    const k = this.keys(queue);
    const reply = await scripts.revoke.run(
      this.redis,
      [k.task(id), k.delayed, k.messages],
      [id, reason, Date.now(), resultTtlSec, k.events(id), terminate ? '1' : '0', k.control],
    );
    return reply === 1 ? 'revoked' : reply === 2 ? 'running' : 'final';
  }

  /** Puts a leased task back until `until` without counting the run, holding that slot. */
  async defer(task: FetchedTask, until: number): Promise<boolean> {
    const k = this.keys(task.queue);
    const reply = await scripts.defer.run(
      this.redis,
      [k.task(task.id), k.active, k.delayed, k.wake],
      [task.id, task.token, until, k.events(task.id)],
    );
    return reply === 1;
  }

  /** Reserves the next start slot of a rate-limited task: epoch ms, now or later. */
  async reserveRateSlot(queue: string, task: string, intervalMs: number, now = Date.now()): Promise<number> {
    const reply = await scripts.rateLimit.run(this.redis, [this.keys(queue).rateLimit(task)], [now, intervalMs, 'reserve']);
    return Number(reply);
  }

  /** Records the start of a rate-limited task: 0 when it may start now, else the epoch ms to wait for. */
  async claimRateStart(queue: string, task: string, intervalMs: number, now = Date.now()): Promise<number> {
    const reply = await scripts.rateLimit.run(this.redis, [this.keys(queue).rateLimit(task)], [now, intervalMs, 'start']);
    return Number(reply);
  }

  /** Enqueues a periodic task for one tick unless this tick (or a later one) was enqueued already. */
  async enqueueTick(queue: string, schedule: string, tick: number, item: EnqueueItem, now = Date.now()): Promise<boolean> {
    const k = this.keys(queue);
    const reply = await scripts.scheduleTick.run(
      this.redis,
      [k.schedule(schedule), k.task(item.id), k.wait, k.wake, k.messages],
      [tick, item.id, item.body, now, item.task],
    );
    return reply === 1;
  }

  /** The last tick a schedule enqueued (epoch ms), or null. */
  async lastTick(queue: string, schedule: string): Promise<number | null> {
    const value = await this.redis.get(this.keys(queue).schedule(schedule));
    return value === null ? null : Number(value);
  }

  /**
   * A task's hash fields (null where missing), its message (null when none) and whether it has a
   * hash, read in one step: a task waiting to run is its message alone (see enqueue.lua).
   */
  async readTask(queue: string, id: string, fields: readonly string[]): Promise<TaskRecord> {
    const k = this.keys(queue);
    const reply = (await scripts.readTask.run(this.redis, [k.task(id), k.messages], [id, ...fields])) as (string | number | null)[];
    // Lua's false arrives as null.
    return {
      values: reply.slice(0, fields.length) as (string | null)[],
      message: (reply[fields.length] as string | null) ?? null,
      hasHash: reply[fields.length + 1] === 1,
    };
  }

  /** Loads the Lua scripts into Redis ahead of their first use (see loadScripts). */
  loadScripts(): Promise<void> {
    return guarded(this.where, loadScripts(this.redis));
  }

  /** Wakes one worker blocked on this queue (it then fetches again). */
  async wake(queue: string): Promise<void> {
    const { wake } = this.keys(queue);
    // Trimmed to one marker, as the scripts keep it (see wakeOne in _prelude.lua).
    await this.redis.multi().lpush(wake, '1').ltrim(wake, 0, 0).exec();
  }

  async pause(queue: string): Promise<void> {
    await guarded(this.where, this.redis.set(this.keys(queue).paused, '1'));
  }

  /** Resumes a paused queue and wakes a worker at once. */
  async resume(queue: string): Promise<void> {
    const k = this.keys(queue);
    await guarded(this.where, this.redis.multi().del(k.paused).lpush(k.wake, '1').ltrim(k.wake, 0, 0).exec());
  }

  async isPaused(queue: string): Promise<boolean> {
    return (await guarded(this.where, this.redis.exists(this.keys(queue).paused))) === 1;
  }

  deadLetters(queue: string): DeadLetterQueue {
    return new DeadLetterQueue(this.redis, this.keys(queue), this.where);
  }

  /** Returns, per item, whether it was enqueued (false: a task with that id already exists). */
  async enqueue(queue: string, items: readonly EnqueueItem[], now = Date.now()): Promise<boolean[]> {
    const k = this.keys(queue);
    const args: (string | number)[] = [k.taskPrefix, now, k.eventPrefix];
    for (const item of items) {
      const expires = item.expires ?? 0;
      const priority = item.priority ?? 0;
      // Most tasks are plain: three arguments each instead of seven (see enqueue.lua).
      if (item.newId === true && item.due <= now && expires === 0 && priority === 0) args.push(item.id, item.body, '0');
      else args.push(item.id, item.body, '1', item.due, expires, priority, item.newId ? '1' : '0');
    }
    const reply = (await scripts.enqueue.run(
      this.redis,
      [k.wait, k.delayed, k.wake, k.messages, k.idle, k.active, k.paused, k.watched],
      args,
    )) as number[];
    return reply.map((n) => n === 1);
  }

  /**
   * Leases up to `max` ready tasks. With `sweep` it first promotes due delayed tasks and takes
   * back expired leases (see fetch.lua); a busy worker asks for that only now and then. Outcomes
   * of this queue waiting to be committed go along and are recorded first (see Completions).
   */
  async fetch(queue: string, max: number, lease: LeaseTerms, sweep = true, now = Date.now()): Promise<FetchResult> {
    const k = this.keys(queue);
    const args: (string | number)[] = [
      k.taskPrefix,
      k.eventPrefix,
      now,
      now + lease.leaseMs,
      max,
      lease.workerId,
      lease.maxDeliveries,
      queue,
      lease.resultTtlSec,
      sweep ? '1' : '0',
      lease.idleMs === undefined ? '0' : now + lease.idleMs,
    ];
    const outcomes = this.completions.take(queue, lease.resultTtlSec);
    outcomes?.appendArgs(args);
    let reply: (string | number)[];
    try {
      reply = (await scripts.fetch.run(
        this.redis,
        [k.wait, k.active, k.delayed, k.wake, k.dead, k.deadIndex, k.paused, k.messages, k.watched, k.idle],
        args,
      )) as (string | number)[];
    } catch (err) {
      outcomes?.fail(err);
      throw err;
    }
    const committed = Number(reply[2]);
    outcomes?.settle(reply, 3);
    const nextDue = Number(reply[0]);
    const tasks: FetchedTask[] = [];
    const tokenPrefix = `${lease.workerId}:`;
    for (let i = 3 + committed; i < reply.length; i += 3) {
      // The delivery count alone, or '<deliveries> <retries> <reservation>' (see fetch.lua).
      const counts = reply[i + 2];
      let delivery: number;
      let retries = 0;
      let reservation = 0;
      if (typeof counts === 'number') delivery = counts;
      else {
        const [d, r, s] = String(counts).split(' ');
        delivery = Number(d);
        retries = Number(r);
        reservation = Number(s);
      }
      tasks.push({
        queue,
        id: String(reply[i]),
        body: String(reply[i + 1]),
        // As fetch.lua writes it into the task's hash.
        token: tokenPrefix + delivery,
        delivery,
        retries,
        reservation,
      });
    }
    return { tasks, drained: reply[1] === 1, nextDue: nextDue < 0 ? null : nextDue };
  }

  /** Ends this run in RETRY and schedules the next at `due`; false when the lease was lost. */
  async retry(task: FetchedTask, due: number, errorJson: string, now = Date.now()): Promise<boolean> {
    const k = this.keys(task.queue);
    const reply = await scripts.retry.run(
      this.redis,
      [k.task(task.id), k.active, k.delayed, k.wait, k.wake],
      [task.id, task.token, due, now, errorJson, k.events(task.id)],
    );
    return Number(reply) >= 0;
  }

  /**
   * Sends the outcomes waiting for a fetch to carry them now: the worker is about to wait instead.
   * A worker that takes hand-offs registers as idle with that commit (`idle`: its queue and terms);
   * with `register`, also when it has nothing to commit (its last fetch did not register it).
   */
  flushCompletions(idle?: { queue: string; workerId: string; leaseMs: number; idleMs: number }, register = false): void {
    this.completions.flushNow(
      idle && { queue: idle.queue, member: idleMember(idle.leaseMs, idle.workerId), until: Date.now() + idle.idleMs },
      register,
    );
  }

  /**
   * Commits a final outcome; false when the lease was lost and another delivery owns the task
   * (true if this outcome was already recorded). Outcomes of one event-loop turn go together,
   * with the worker's next fetch of the queue when it makes one in that turn (see Completions).
   * With a reply channel in `sent`, the outcome is also published there (the sender's ReplyInbox).
   */
  complete(task: FetchedTask, outcome: Outcome, resultTtlSec: number, sent: SentBy, ignoreResult = false): Promise<boolean> {
    const payload = outcome.state === 'SUCCESS' ? outcome.resultJson : outcome.errorJson;
    return this.completions.add(task.queue, { id: task.id, token: task.token, state: outcome.state, payload, ignoreResult, sent }, resultTtlSec);
  }

  async progress(task: FetchedTask, metaJson: string): Promise<boolean> {
    const k = this.keys(task.queue);
    const reply = await scripts.progress.run(this.redis, [k.task(task.id)], [task.token, metaJson, k.events(task.id)]);
    return reply === 1;
  }

  async deadLetter(task: FetchedTask, entryJson: string, errorJson: string, resultTtlSec: number, now = Date.now()): Promise<void> {
    const k = this.keys(task.queue);
    await scripts.deadLetter.run(
      this.redis,
      [k.task(task.id), k.active, k.dead, k.deadIndex, k.messages],
      [task.id, entryJson, errorJson, now, resultTtlSec, k.events(task.id)],
    );
  }

  /** Gives a leased task back to the head of its queue; false when the lease was already lost. */
  async release(task: FetchedTask): Promise<boolean> {
    const k = this.keys(task.queue);
    const reply = await scripts.release.run(
      this.redis,
      [k.task(task.id), k.active, k.wait, k.wake],
      [task.id, task.token, k.events(task.id)],
    );
    return reply === 1;
  }

  /**
   * Blocks on the given client until one of the queues signals new work or the timeout passes.
   * The client must be a dedicated connection: a blocking command holds it. A worker that takes
   * hand-offs (`handOffTo`: its id; one queue) also waits on its hand-off list, and gets the task
   * handed to it, leased to it by the enqueue (see enqueue.lua).
   */
  async waitForWork(blocking: Redis, queues: readonly string[], timeoutMs: number, handOffTo?: string): Promise<FetchedTask | undefined> {
    const wakeKeys = queues.map((q) => this.keys(q).wake);
    const queue = queues[0];
    const handOffKey = handOffTo !== undefined && queue !== undefined ? this.keys(queue).handOff(handOffTo) : undefined;
    const keys = handOffKey === undefined ? wakeKeys : [handOffKey, ...wakeKeys];
    const popped = await blocking.blpop(...keys, Math.max(timeoutMs, 1) / 1000);
    if (!popped || popped[0] !== handOffKey || queue === undefined) return undefined;
    // '<id>\n<sent ms>\n<message>' (see enqueue.lua).
    const entry = popped[1];
    const idEnd = entry.indexOf('\n');
    const timeEnd = entry.indexOf('\n', idEnd + 1);
    return {
      queue,
      id: entry.slice(0, idEnd),
      body: entry.slice(timeEnd + 1),
      token: `${handOffTo}:1`,
      delivery: 1,
      retries: 0,
      reservation: 0,
      handedAt: Number(entry.slice(idEnd + 1, timeEnd)),
    };
  }

  /**
   * Gives tasks handed to this worker back to their queue (see hand-back.lua): the ones given (its
   * hand-off came too late to trust) and whatever waits in its hand-off list. With `unregister`,
   * the worker's registration as idle goes too (it stops). Returns how many went back.
   */
  async handBack(queue: string, workerId: string, leaseMs: number, ids: readonly string[], unregister: boolean): Promise<number> {
    const k = this.keys(queue);
    const reply = await scripts.handBack.run(
      this.redis,
      [k.idle, k.active, k.wait, k.wake],
      [unregister ? idleMember(leaseMs, workerId) : '', workerId, k.taskPrefix, k.eventPrefix, ...ids],
    );
    return Number(reply);
  }
}

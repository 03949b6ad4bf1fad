/**
 * The dead-letter store of one queue: messages that could not run (malformed, unknown task,
 * delivered too often, or out of retries when the task asks for it), each kept with its
 * original message, the reason, the time and the worker. Nothing in it expires by itself.
 */
import type { Redis } from 'ioredis';
import type { QueueKeys } from './keys.js';
import { guarded } from '../connection/redis-errors.js';
import { scripts } from './lua-script.js';

export interface DeadLetter {
  id: string;
  queue: string;
  reason: string;
  detail: string;
  /** The original message as it was in Redis ('' when there was none). */
  message: string;
  /** When it was dead-lettered. */
  at: Date;
  /** The worker that dead-lettered it. */
  worker: string;
}

export interface ListOptions {
  offset?: number;
  /** Default 100. */
  limit?: number;
}

const REQUEUE_BATCH = 500;

export class DeadLetterQueue {
  constructor(
    private readonly redis: Redis,
    private readonly keys: QueueKeys,
    private readonly where: string,
  ) {}

  get queue(): string {
    return this.keys.queue;
  }

  async count(): Promise<number> {
    return guarded(this.where, this.redis.zcard(this.keys.deadIndex));
  }

  /** Oldest first. */
  async list(options: ListOptions = {}): Promise<DeadLetter[]> {
    const offset = options.offset ?? 0;
    const limit = options.limit ?? 100;
    const ids = await guarded(this.where, this.redis.zrange(this.keys.deadIndex, offset, offset + limit - 1));
    if (ids.length === 0) return [];
    const raw = await guarded(this.where, this.redis.hmget(this.keys.dead, ...ids));
    return raw.flatMap((entry, i) => (entry ? [decode(ids[i] as string, this.keys.queue, entry)] : []));
  }

  /** Puts one dead letter back on its queue as a new task; false when there is none with that id. */
  async requeue(id: string): Promise<boolean> {
    const [result] = await this.requeueIds([id]);
    return result === 1;
  }

  /** Requeues every dead letter that has a message; returns how many went back. */
  async requeueAll(): Promise<number> {
    let requeued = 0;
    let offset = 0;
    for (;;) {
      const ids = await guarded(this.where, this.redis.zrange(this.keys.deadIndex, offset, offset + REQUEUE_BATCH - 1));
      if (ids.length === 0) return requeued;
      const results = await this.requeueIds(ids);
      requeued += results.filter((r) => r === 1).length;
      // Entries that could not be requeued stay in the index: step over them.
      offset += results.filter((r) => r === -1).length;
    }
  }

  /** Deletes every dead letter of the queue; returns how many there were. */
  async purge(): Promise<number> {
    const replies = await guarded(
      this.where,
      this.redis.multi().zcard(this.keys.deadIndex).del(this.keys.dead, this.keys.deadIndex).exec(),
    );
    return Number(replies?.[0]?.[1] ?? 0);
  }

  private async requeueIds(ids: readonly string[]): Promise<number[]> {
    const k = this.keys;
    return (await guarded(
      this.where,
      scripts.requeueDead.run(
        this.redis,
        [k.dead, k.deadIndex, k.wait, k.wake, k.messages],
        [k.taskPrefix, k.eventPrefix, Date.now(), ...ids],
      ),
    )) as number[];
  }
}

function decode(id: string, queue: string, raw: string): DeadLetter {
  const e = JSON.parse(raw) as Partial<Record<keyof DeadLetter, unknown>>;
  return {
    id,
    queue: typeof e.queue === 'string' ? e.queue : queue,
    reason: String(e.reason ?? 'unknown'),
    detail: String(e.detail ?? ''),
    message: typeof e.message === 'string' ? e.message : '',
    at: new Date(typeof e.at === 'number' ? e.at : Date.parse(String(e.at))),
    worker: String(e.worker ?? ''),
  };
}

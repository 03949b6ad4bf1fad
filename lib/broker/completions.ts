/**
 * Collects the outcomes a worker commits in one turn of its event loop and sends them as one
 * complete.lua call per queue: one script run instead of one per task, in the same round trip
 * as the worker's next fetch.
 */
import type { Redis } from 'ioredis';
import type { QueueKeys } from './keys.js';
import { scripts } from './lua-script.js';

export interface Completion {
  id: string;
  token: string;
  state: 'SUCCESS' | 'FAILURE' | 'REVOKED';
  payload: string;
  ignoreResult: boolean;
  /** The sender's reply channel, or ''. */
  reply: string;
}

interface Waiting {
  completion: Completion;
  settle: (committed: boolean) => void;
  fail: (err: unknown) => void;
}

/** The outcomes of one queue (and one result TTL) that go in one call. */
interface Batch {
  queue: string;
  ttlSec: number;
  waiting: Waiting[];
}

export class Completions {
  private readonly batches = new Map<string, Batch>();
  private scheduled = false;

  constructor(
    private readonly redis: Redis,
    private readonly keysOf: (queue: string) => QueueKeys,
  ) {}

  /** Resolves true when committed (or already recorded), false when the lease was lost. */
  add(queue: string, completion: Completion, ttlSec: number): Promise<boolean> {
    return new Promise<boolean>((settle, fail) => {
      const key = `${ttlSec}\n${queue}`;
      let batch = this.batches.get(key);
      if (!batch) this.batches.set(key, (batch = { queue, ttlSec, waiting: [] }));
      batch.waiting.push({ completion, settle, fail });
      if (!this.scheduled) {
        this.scheduled = true;
        // nextTick runs once this turn's promise jobs are done: every outcome of the turn is in,
        // and the call still joins ioredis' pipeline of this turn (flushed on setImmediate).
        process.nextTick(this.flush);
      }
    });
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    const batches = [...this.batches.values()];
    this.batches.clear();
    for (const batch of batches) void this.send(batch);
  };

  private async send({ queue, ttlSec, waiting }: Batch): Promise<void> {
    const k = this.keysOf(queue);
    const args: (string | number)[] = [k.taskPrefix, k.eventPrefix, Date.now(), ttlSec];
    for (const { completion: c } of waiting) args.push(c.id, c.token, c.state, c.payload, c.ignoreResult ? '1' : '0', c.reply);
    try {
      const replies = (await scripts.complete.run(this.redis, [k.active, k.messages], args)) as number[];
      waiting.forEach((w, i) => w.settle(replies[i] === 1 || replies[i] === 2));
    } catch (err) {
      for (const w of waiting) w.fail(err);
    }
  }
}

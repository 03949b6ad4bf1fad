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
}

interface Waiting {
  completion: Completion;
  settle: (committed: boolean) => void;
  fail: (err: unknown) => void;
}

export class Completions {
  private readonly byQueue = new Map<string, Waiting[]>();
  private scheduled = false;

  constructor(
    private readonly redis: Redis,
    private readonly keysOf: (queue: string) => QueueKeys,
  ) {}

  /** Resolves true when committed (or already recorded), false when the lease was lost. */
  add(queue: string, completion: Completion, ttlSec: number): Promise<boolean> {
    return new Promise<boolean>((settle, fail) => {
      const key = `${ttlSec}\n${queue}`;
      let waiting = this.byQueue.get(key);
      if (!waiting) this.byQueue.set(key, (waiting = []));
      waiting.push({ completion, settle, fail });
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
    const batches = [...this.byQueue];
    this.byQueue.clear();
    for (const [key, waiting] of batches) void this.send(key, waiting);
  };

  private async send(key: string, waiting: Waiting[]): Promise<void> {
    const newline = key.indexOf('\n');
    const ttl = key.slice(0, newline);
    const k = this.keysOf(key.slice(newline + 1));
    const args: (string | number)[] = [k.taskPrefix, k.eventPrefix, Date.now(), ttl];
    for (const { completion: c } of waiting) args.push(c.id, c.token, c.state, c.payload, c.ignoreResult ? '1' : '0');
    try {
      const replies = (await scripts.complete.run(this.redis, [k.active, k.messages], args)) as number[];
      waiting.forEach((w, i) => w.settle(replies[i] === 1 || replies[i] === 2));
    } catch (err) {
      for (const w of waiting) w.fail(err);
    }
  }
}

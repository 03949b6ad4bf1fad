/**
 * Collects the outcomes a worker commits and sends them with its next fetch of the same queue
 * (fetch.lua commits them first: one script run and one round trip for both), or, when no fetch
 * takes them by the end of this turn of the event loop, as one complete.lua call per queue.
 */
import type { Redis } from 'ioredis';
import type { SentBy } from './broker.js';
import type { QueueKeys } from './keys.js';
import { scripts } from './lua-script.js';

/** A worker about to wait for work, registering as idle with its last commit (see complete.lua). */
export interface IdleRegistration {
  queue: string;
  /** '<lease ms> <worker id>' */
  member: string;
  /** Epoch ms. */
  until: number;
}

export interface Completion {
  id: string;
  token: string;
  state: 'SUCCESS' | 'FAILURE' | 'REVOKED';
  payload: string;
  ignoreResult: boolean;
  /** From the message: the sender's reply channel, the task's name, when it was sent. */
  sent: SentBy;
}

interface Waiting {
  completion: Completion;
  settle: (committed: boolean) => void;
  fail: (err: unknown) => void;
}

/** Outcomes taken for one script call, settled from its per-outcome replies (see commitOutcomes in _prelude.lua). */
export class CompletionBatch {
  constructor(private readonly waiting: readonly Waiting[]) {}

  get size(): number {
    return this.waiting.length;
  }

  /** The script arguments: groups of 8 per outcome. */
  appendArgs(args: (string | number)[]): void {
    for (const { completion: c } of this.waiting) {
      args.push(c.id, c.token, c.state, c.payload, c.ignoreResult ? '1' : '0', c.sent.reply, c.sent.name, c.sent.createdAt);
    }
  }

  /** 1 committed, 2 already recorded: both true; 0 lost the lease. */
  settle(replies: readonly unknown[], from = 0): void {
    this.waiting.forEach((w, i) => {
      const reply = replies[from + i];
      w.settle(reply === 1 || reply === 2);
    });
  }

  fail(err: unknown): void {
    for (const w of this.waiting) w.fail(err);
  }
}

/** The outcomes of one queue (and one result TTL) that go in one call. */
interface Pending {
  queue: string;
  ttlSec: number;
  waiting: Waiting[];
}

export class Completions {
  /** By result TTL and queue (see batchKey). */
  private readonly pending = new Map<string, Pending>();
  private scheduled = false;

  constructor(
    private readonly redis: Redis,
    private readonly keysOf: (queue: string) => QueueKeys,
  ) {}

  /** Resolves true when committed (or already recorded), false when the lease was lost. */
  add(queue: string, completion: Completion, ttlSec: number): Promise<boolean> {
    return new Promise<boolean>((settle, fail) => {
      const key = batchKey(queue, ttlSec);
      let batch = this.pending.get(key);
      if (!batch) this.pending.set(key, (batch = { queue, ttlSec, waiting: [] }));
      batch.waiting.push({ completion, settle, fail });
      if (!this.scheduled) {
        this.scheduled = true;
        // After this turn's promise jobs and ticks: by then a worker whose slots these outcomes
        // freed has fetched again and taken them along (see take), and what is left goes alone.
        setImmediate(this.flush);
      }
    });
  }

  /** Takes the outcomes waiting for this queue and TTL, for a fetch to commit them (nothing: undefined). */
  take(queue: string, ttlSec: number): CompletionBatch | undefined {
    const key = batchKey(queue, ttlSec);
    const batch = this.pending.get(key);
    if (!batch) return undefined;
    this.pending.delete(key);
    return new CompletionBatch(batch.waiting);
  }

  /**
   * Sends what is waiting now, for a worker that will not fetch again soon (it waits for work);
   * with `idle`, the commit of that queue also registers the worker as idle, and with `register`
   * a call with no outcomes registers it when nothing of that queue is waiting.
   */
  flushNow(idle?: IdleRegistration, register = false): void {
    let carried = false;
    if (idle) for (const batch of this.pending.values()) carried ||= batch.queue === idle.queue;
    if (this.pending.size > 0) this.flush(idle);
    if (register && idle && !carried) void this.send(idle.queue, 0, new CompletionBatch([]), idle);
  }

  private readonly flush = (idle?: IdleRegistration): void => {
    this.scheduled = false;
    const batches = [...this.pending.values()];
    this.pending.clear();
    for (const { queue, ttlSec, waiting } of batches) {
      void this.send(queue, ttlSec, new CompletionBatch(waiting), idle?.queue === queue ? idle : undefined);
    }
  };

  private async send(queue: string, ttlSec: number, batch: CompletionBatch, idle?: IdleRegistration): Promise<void> {
    const k = this.keysOf(queue);
    const args: (string | number)[] = [k.taskPrefix, k.eventPrefix, Date.now(), ttlSec, idle ? idle.until : '0', idle ? idle.member : ''];
    batch.appendArgs(args);
    try {
      const keys = [k.active, k.messages, k.watched, k.wait, k.paused, k.idle];
      batch.settle((await scripts.complete.run(this.redis, keys, args)) as unknown[]);
    } catch (err) {
      batch.fail(err);
    }
  }
}

function batchKey(queue: string, ttlSec: number): string {
  return `${ttlSec}\n${queue}`;
}

/**
 * The fast path of result() for tasks this process sent (Celery's rpc backend idea): one
 * pub/sub channel per process, subscribed once, on which workers publish the outcome of every
 * task whose message names it. A waiter then needs no SUBSCRIBE, read and UNSUBSCRIBE of its
 * own: the outcome arrives one hop after the worker commits it.
 *
 * It opens on the first result() a process awaits, and only sends made after it is subscribed
 * name it: a process that never waits pays nothing. After a while without any result() call it
 * closes again, so that a process that stopped waiting stops receiving outcomes it ignores.
 *
 * Replies are an optimisation, never the only way to learn an outcome: final states written
 * elsewhere (revoke of a pending task, expiry, dead-letters) and replies lost to a reconnect
 * reach a waiter through the task's own events (see TaskHandle.result).
 */
import { randomBytes } from 'node:crypto';
import type { EventSubscriber } from './event-subscriber.js';
import { parseEventMessage, type TaskEvent } from './result-backend.js';

export interface ReplyInboxOptions {
  /** Outcomes kept for a result() that comes after them, oldest dropped first. */
  maxKept?: number;
  /** ...and at most this many bytes of them (results can be large). */
  maxKeptBytes?: number;
  /** Closes after this long without a result() call. */
  idleCloseMs?: number;
}

export class ReplyInbox {
  readonly channel: string;
  private status: 'closed' | 'opening' | 'open' = 'closed';
  private stop: (() => void) | undefined;
  /** Counts opens, so that a subscription confirmed after a close (or a reopen) is dropped. */
  private generation = 0;
  /** Outcomes nobody waited for yet, oldest first, with the size of their message. */
  private readonly kept = new Map<string, { event: TaskEvent; bytes: number }>();
  private keptBytes = 0;
  private readonly waiters = new Map<string, Set<(event: TaskEvent) => void>>();
  private lastUsed = 0;
  private readonly maxKept: number;
  private readonly maxKeptBytes: number;
  private readonly idleCloseMs: number;

  constructor(
    prefix: string,
    private readonly subscriber: EventSubscriber,
    options: ReplyInboxOptions = {},
  ) {
    this.channel = `${prefix}:reply:${randomBytes(12).toString('base64url')}`;
    this.maxKept = options.maxKept ?? 10_000;
    this.maxKeptBytes = options.maxKeptBytes ?? 16 * 1024 * 1024;
    this.idleCloseMs = options.idleCloseMs ?? 60_000;
  }

  /** The channel a send should name, or undefined while the inbox is not subscribed. */
  get address(): string | undefined {
    return this.status === 'open' ? this.channel : undefined;
  }

  /** Whether a worker may publish to `channel` as a reply (only our own prefix's inboxes). */
  static accepts(prefix: string, channel: unknown): channel is string {
    return typeof channel === 'string' && channel.startsWith(`${prefix}:reply:`) && channel.length <= 200;
  }

  /** A result() is waiting: open if closed (later sends then name this inbox). */
  use(): void {
    this.lastUsed = Date.now();
    if (this.status !== 'closed') return;
    this.status = 'opening';
    const generation = ++this.generation;
    this.subscriber.listen(this.channel, (m) => this.receive(m)).then(
      (stop) => {
        if (generation !== this.generation) return stop();
        this.stop = stop;
        this.status = 'open';
      },
      // Not subscribed (Redis down): waiters use the task events; the next result() tries again.
      () => {
        if (generation === this.generation) this.status = 'closed';
      },
    );
  }

  /**
   * Calls `onFinal` with the final event of a task sent with this inbox's address: at once if it
   * came already. Returns what stops the wait.
   */
  wait(id: string, onFinal: (event: TaskEvent) => void): () => void {
    const early = this.take(id);
    if (early) {
      onFinal(early);
      return () => undefined;
    }
    let set = this.waiters.get(id);
    if (!set) this.waiters.set(id, (set = new Set()));
    const waiters = set;
    // Its own function: the same callback may wait twice.
    const waiter = (event: TaskEvent): void => onFinal(event);
    waiters.add(waiter);
    return () => {
      waiters.delete(waiter);
      if (waiters.size === 0 && this.waiters.get(id) === waiters) this.waiters.delete(id);
    };
  }

  close(): void {
    this.generation++;
    this.stop?.();
    this.stop = undefined;
    this.status = 'closed';
    this.kept.clear();
    this.keptBytes = 0;
  }

  private take(id: string): TaskEvent | undefined {
    const entry = this.kept.get(id);
    if (!entry) return undefined;
    this.kept.delete(id);
    this.keptBytes -= entry.bytes;
    return entry.event;
  }

  /** Replies are "<id>\n<STATE>\n<JSON>" (see scripts/complete.lua). */
  private receive(message: string): void {
    const newline = message.indexOf('\n');
    if (newline <= 0) return;
    const id = message.slice(0, newline);
    const event = parseEventMessage(id, message.slice(newline + 1));
    if (!event) return;
    const set = this.waiters.get(id);
    if (set) {
      this.waiters.delete(id);
      for (const waiter of set) waiter(event);
      return;
    }
    if (this.waiters.size === 0 && Date.now() - this.lastUsed > this.idleCloseMs) return this.close();
    this.take(id); // a repeated reply replaces the one kept
    this.kept.set(id, { event, bytes: message.length });
    this.keptBytes += message.length;
    while (this.kept.size > this.maxKept || this.keptBytes > this.maxKeptBytes) {
      this.take(this.kept.keys().next().value as string);
    }
  }
}

/**
 * Workers publish a task's STARTED and outcome events only while some process follows the task
 * events of its queue (see isWatched in broker/scripts/_prelude.lua): most tasks are never
 * watched, and those two PUBLISH per task were a quarter of Redis' commands on the hot path.
 *
 * A process that follows events marks the queue in Redis (a key with a TTL) before it reads a
 * task's state, and renews the mark while it follows any task of the queue. So every change made
 * after that read is published, and every change made before it is in what was read. The mark
 * expires by itself after the last follower leaves or dies.
 *
 * Should the mark lapse while followed (renewals lost to a Redis outage, or this process stalled
 * for longer than the TTL), events may have gone unpublished: the renewal that finds the mark
 * gone tells the followers of that queue to read the state again.
 */
import type { Redis } from 'ioredis';
import { guarded } from '../connection/redis-errors.js';

/** How long a mark lasts unless renewed; renewed every quarter of it. */
export const WATCH_TTL_MS = 60_000;

export interface QueueHold {
  /** Resolves once Redis has the mark; a read issued after hold() on the same connection runs after it. */
  marked: Promise<void>;
  /** Ends this hold; calling it again changes nothing. */
  release: () => void;
}

export class QueueWatch {
  /** Queue -> what to call, per follower of this process, when the mark is found lapsed. */
  private readonly followers = new Map<string, Set<() => void>>();
  private renewal: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly keyOf: (queue: string) => string,
    private readonly where: string,
    private readonly ttlMs = WATCH_TTL_MS,
  ) {}

  /**
   * Marks the queue watched, now and until released. The mark is written at once, so a read
   * sent right after it on the same connection runs after it (no round trip to wait for).
   */
  hold(queue: string, onLapse: () => void): QueueHold {
    let followers = this.followers.get(queue);
    if (!followers) this.followers.set(queue, (followers = new Set()));
    const others = [...followers];
    // Its own function, so that one follower holding twice is two holds.
    const follower = () => onLapse();
    followers.add(follower);
    this.renewal ??= setInterval(() => this.renewAll(), this.ttlMs / 4).unref();
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const left = this.followers.get(queue);
      left?.delete(follower);
      if (left?.size === 0) this.followers.delete(queue);
      if (this.followers.size === 0) this.stopRenewal();
    };
    const marked = guarded(this.where, this.mark(queue)).then(
      (previous) => {
        // This follower reads after the mark; the others of the queue may have missed events.
        if (previous === null) for (const other of others) other();
      },
      (err: unknown) => {
        release();
        throw err;
      },
    );
    return { marked, release };
  }

  /** Stops renewing (at shutdown); the marks expire by themselves. */
  close(): void {
    this.followers.clear();
    this.stopRenewal();
  }

  /** Sets the mark for another TTL; resolves to its previous value (null: it was not there). */
  private mark(queue: string): Promise<string | null> {
    return this.redis.set(this.keyOf(queue), '1', 'PX', this.ttlMs, 'GET');
  }

  private renewAll(): void {
    for (const [queue, followers] of this.followers) {
      this.mark(queue).then(
        (previous) => {
          if (previous === null) for (const follower of [...followers]) follower();
        },
        // A renewal lost to a Redis outage is retried at the next tick, long before the mark expires.
        () => undefined,
      );
    }
  }

  private stopRenewal(): void {
    clearInterval(this.renewal);
    this.renewal = undefined;
  }
}

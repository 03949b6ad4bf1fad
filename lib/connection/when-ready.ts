/**
 * Waits for a connection to be usable, for at most `ms`. Used before sending so that, while
 * Redis is unreachable, a send fails in bounded time instead of piling up in ioredis' offline
 * queue with no limit.
 */
import type { Redis } from 'ioredis';
import { RedisUnavailableError } from '../common/errors.js';

/** One pending 'ready' wait per client, however many sends wait on it. */
const readyWaits = new WeakMap<Redis, Promise<void>>();

export function whenReady(client: Redis, ms: number, where: string): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  if (client.status === 'end') return Promise.reject(new RedisUnavailableError(where, 'the connection was closed'));
  if (client.status === 'wait') client.connect().catch(() => undefined); // lazyConnect: first use
  let ready = readyWaits.get(client);
  if (!ready) {
    ready = new Promise<void>((resolve) => client.once('ready', () => resolve()));
    readyWaits.set(client, ready);
    void ready.then(() => readyWaits.delete(client));
  }
  return within(ready, ms, () => new RedisUnavailableError(where, `no connection within ${ms} ms`));
}

/** Rejects with RedisUnavailableError when `work` takes longer than `ms`. */
export async function within<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(onTimeout()), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Bounds many promises by one timer instead of one timer each (a send is a hot path): every
 * tick of `resolutionMs` it rejects the ones past their deadline. A bound may be exceeded by up
 * to one tick.
 */
export class Deadlines {
  private readonly pending = new Set<{ deadline: number; expire: () => void }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly resolutionMs = 50) {}

  bound<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry = { deadline: Date.now() + ms, expire: () => reject(onTimeout()) };
      this.pending.add(entry);
      this.arm();
      work.then(
        (value) => {
          this.pending.delete(entry);
          resolve(value);
        },
        (err: unknown) => {
          this.pending.delete(entry);
          reject(err);
        },
      );
    });
  }

  private arm(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      const now = Date.now();
      for (const entry of this.pending) {
        if (entry.deadline > now) continue;
        this.pending.delete(entry);
        entry.expire();
      }
      if (this.pending.size === 0) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    }, this.resolutionMs);
    this.timer.unref();
  }
}

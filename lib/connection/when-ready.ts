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

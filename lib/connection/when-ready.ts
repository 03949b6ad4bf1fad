/**
 * Waits for a connection to be usable, for at most `ms`. Used before sending so that, while
 * Redis is unreachable, a send fails in bounded time instead of piling up in ioredis' offline
 * queue with no limit.
 */
import type { Redis } from 'ioredis';
import { RedisUnavailableError } from '../common/errors.js';

export function whenReady(client: Redis, ms: number, where: string): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  if (client.status === 'end') return Promise.reject(new RedisUnavailableError(where, 'the connection was closed'));
  if (client.status === 'wait') client.connect().catch(() => undefined); // lazyConnect: first use
  return new Promise<void>((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      client.off('ready', onReady);
    };
    const onReady = () => {
      done();
      resolve();
    };
    const timer = setTimeout(() => {
      done();
      reject(new RedisUnavailableError(where, `no connection within ${ms} ms`));
    }, ms);
    client.once('ready', onReady);
  });
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

/**
 * What the user gives as "connection": a redis:// or rediss:// URL, or ioredis options.
 * Checked up front so that a typo fails at startup, and described without its password.
 */
import type { RedisOptions } from 'ioredis';
import { InvalidOptionsError } from '../common/errors.js';

export type ConnectionSpec = string | RedisOptions;

export function assertConnectionSpec(spec: unknown, option = 'connection'): asserts spec is ConnectionSpec {
  if (typeof spec === 'string') {
    let url: URL;
    try {
      url = new URL(spec);
    } catch {
      throw new InvalidOptionsError(option, `is not a valid URL; expected e.g. redis://127.0.0.1:6379/0`);
    }
    if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
      throw new InvalidOptionsError(option, `must use redis:// or rediss:// (TLS), not ${url.protocol}//`);
    }
    const db = url.pathname.replace(/^\//, '');
    if (db !== '' && !/^\d+$/.test(db)) {
      throw new InvalidOptionsError(option, `has "${db}" where the database number belongs (redis://host:port/<db>)`);
    }
    return;
  }
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
    throw new InvalidOptionsError(option, 'must be a redis:// URL or an ioredis options object');
  }
  // ioredis would prefix the keys it is given, not those our scripts build from them.
  if ((spec as RedisOptions).keyPrefix) {
    throw new InvalidOptionsError(`${option}.keyPrefix`, "is not supported: set the module's `prefix` option instead");
  }
}

/** host:port/db, for logs and errors: never the user name or password. */
export function describeConnection(spec: ConnectionSpec): string {
  if (typeof spec === 'string') {
    const url = new URL(spec);
    const db = url.pathname.replace(/^\//, '') || '0';
    return `${url.protocol}//${url.hostname}:${url.port || '6379'}/${db}`;
  }
  if (spec.sentinels?.length) return `sentinel ${spec.name ?? '?'} via ${spec.sentinels.length} sentinel(s)`;
  if (spec.path) return `unix:${spec.path}`;
  return `redis://${spec.host ?? '127.0.0.1'}:${spec.port ?? 6379}/${spec.db ?? 0}`;
}

/**
 * One Lua script from broker/scripts: read once from its .lua file, called by SHA, and
 * sent in full only when Redis answers NOSCRIPT (after a restart or SCRIPT FLUSH).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

export type ScriptArg = string | number;

/** Helpers every script shares (priority lists, wake-ups); see scripts/_prelude.lua. */
const PRELUDE = readFileSync(new URL('./scripts/_prelude.lua', import.meta.url), 'utf8');

export class LuaScript {
  readonly sha: string;
  readonly source: string;

  constructor(readonly name: string) {
    this.source = PRELUDE + readFileSync(new URL(`./scripts/${name}.lua`, import.meta.url), 'utf8');
    this.sha = createHash('sha1').update(this.source).digest('hex');
  }

  async run(redis: Redis, keys: readonly string[], args: readonly ScriptArg[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

/**
 * Loads every script into Redis, so that none is first sent in full in the middle of work: a
 * call that has to be resent after NOSCRIPT lands behind calls issued after it.
 */
export async function loadScripts(redis: Redis): Promise<void> {
  const pipeline = redis.pipeline();
  for (const script of Object.values(scripts)) pipeline.script('LOAD', script.source);
  for (const [err] of (await pipeline.exec()) ?? []) if (err) throw err;
}

export const scripts = {
  enqueue: new LuaScript('enqueue'),
  fetch: new LuaScript('fetch'),
  complete: new LuaScript('complete'),
  progress: new LuaScript('progress'),
  deadLetter: new LuaScript('dead-letter'),
  release: new LuaScript('release'),
  retry: new LuaScript('retry'),
  requeueDead: new LuaScript('requeue-dead'),
  revoke: new LuaScript('revoke'),
  defer: new LuaScript('defer'),
  rateLimit: new LuaScript('rate-limit'),
  scheduleTick: new LuaScript('schedule-tick'),
} as const;

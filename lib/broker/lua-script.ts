/**
 * One Lua script from broker/scripts: read once from its .lua file, called by SHA, and
 * sent in full only when Redis answers NOSCRIPT (after a restart or SCRIPT FLUSH).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Command, type Redis } from 'ioredis';

export type ScriptArg = string | number;

/** Helpers every script shares (priority lists, wake-ups); see scripts/_prelude.lua. */
const PRELUDE = readFileSync(new URL('./scripts/_prelude.lua', import.meta.url), 'utf8');

export class LuaScript {
  readonly sha: string;
  readonly source: string;

  /** `body`: the script after the prelude; scripts/<name>.lua by default. */
  constructor(
    readonly name: string,
    body = readFileSync(new URL(`./scripts/${name}.lua`, import.meta.url), 'utf8'),
  ) {
    this.source = PRELUDE + body;
    this.sha = createHash('sha1').update(this.source).digest('hex');
  }

  async run(redis: Redis, keys: readonly string[], args: readonly ScriptArg[]): Promise<unknown> {
    try {
      return await redis.sendCommand(new ScriptCall('evalsha', this.sha, keys, args));
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return redis.sendCommand(new ScriptCall('eval', this.source, keys, args));
    }
  }
}

/**
 * EVALSHA (or EVAL) written as the protocol text we encode here. ioredis' own Command copies
 * its arguments with Array.prototype.flat and encodes each one again when it writes: for a fetch
 * that carries fifty outcomes (some 400 arguments) that cost the worker more per task than
 * parsing the task's message (measured with a CPU profile), and the producer as much per send.
 * The reply is decoded by ioredis as for any command (strings, as evalsha gives them).
 */
class ScriptCall extends Command {
  private readonly encoded: string;

  constructor(
    name: 'evalsha' | 'eval',
    script: string,
    private readonly scriptKeys: readonly string[],
    args: readonly ScriptArg[],
  ) {
    super(name, [], { replyEncoding: 'utf8' });
    let text = `*${3 + scriptKeys.length + args.length}\r\n$${name.length}\r\n${name}\r\n`;
    text += bulk(script) + asciiBulk(String(scriptKeys.length));
    for (const key of scriptKeys) text += bulk(key);
    for (const arg of args) text += typeof arg === 'number' ? asciiBulk(String(arg)) : bulk(arg);
    this.encoded = text;
  }

  /** The keys, for a cluster client to pick the node (ioredis reads them from the arguments). */
  override getKeys(): string[] {
    return [...this.scriptKeys];
  }

  override toWritable(): string {
    return this.encoded;
  }
}

function bulk(value: string): string {
  return `$${Buffer.byteLength(value)}\r\n${value}\r\n`;
}

/** A number's text is ASCII: its length is its size in bytes. */
function asciiBulk(value: string): string {
  return `$${value.length}\r\n${value}\r\n`;
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
  handBack: new LuaScript('hand-back'),
  retry: new LuaScript('retry'),
  requeueDead: new LuaScript('requeue-dead'),
  revoke: new LuaScript('revoke'),
  defer: new LuaScript('defer'),
  rateLimit: new LuaScript('rate-limit'),
  scheduleTick: new LuaScript('schedule-tick'),
  readTask: new LuaScript('read-task'),
} as const;

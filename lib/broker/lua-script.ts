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
 * EVALSHA (or EVAL) written into one buffer, in the protocol we encode here. ioredis' own
 * Command copies its arguments with Array.prototype.flat and encodes each one again when it
 * writes: for a fetch that carries fifty outcomes (some 400 arguments) that cost the worker more
 * per task than parsing the task's message (measured with a CPU profile), and the producer as
 * much per send. Written as text and joined, each argument left strings behind for the collector
 * (its header, the joins, the flattened whole: 1.3 KB more per task sent in batches of 250 than
 * now, measured); written into a buffer, none. The reply is decoded by ioredis as for any
 * command (strings, as evalsha gives them).
 */
class ScriptCall extends Command {
  private readonly encoded: Buffer;

  constructor(
    name: 'evalsha' | 'eval',
    script: string,
    private readonly scriptKeys: readonly string[],
    args: readonly ScriptArg[],
  ) {
    super(name, [], { replyEncoding: 'utf8' });
    this.encoded = encodeCommand(name, [[script, scriptKeys.length], scriptKeys, args]);
  }

  /** The keys, for a cluster client to pick the node (ioredis reads them from the arguments). */
  override getKeys(): string[] {
    return [...this.scriptKeys];
  }

  override toWritable(): Buffer {
    return this.encoded;
  }
}

/** Byte lengths of the arguments of the command being encoded, measured once. */
let sizes = new Int32Array(1024);
const ARRAY_MARK = 0x2a; // '*'
const BULK_MARK = 0x24; // '$'
const CR = 0x0d;
const LF = 0x0a;

function encodeCommand(name: string, sections: readonly (readonly ScriptArg[])[]): Buffer {
  let count = 1;
  for (const section of sections) count += section.length;
  if (sizes.length < count) sizes = new Int32Array(count * 2);
  let total = 1 + digits(count) + 2 + measureBulk(name, 0);
  let i = 1;
  for (const section of sections) for (const value of section) total += measureBulk(textOf(value), i++);
  const out = Buffer.allocUnsafe(total);
  let at = writeHeader(out, 0, ARRAY_MARK, count);
  at = writeBulk(out, at, name, 0);
  i = 1;
  for (const section of sections) for (const value of section) at = writeBulk(out, at, textOf(value), i++);
  return out;
}

function textOf(value: ScriptArg): string {
  return typeof value === 'number' ? String(value) : value;
}

/** The encoded size of one argument; its byte length is kept in `sizes[i]` for writeBulk. */
function measureBulk(text: string, i: number): number {
  const bytes = Buffer.byteLength(text);
  sizes[i] = bytes;
  return 1 + digits(bytes) + 2 + bytes + 2;
}

function writeBulk(out: Buffer, at: number, text: string, i: number): number {
  const bytes = sizes[i] as number;
  at = writeHeader(out, at, BULK_MARK, bytes);
  // As many bytes as characters: ASCII, copied as it is.
  at += out.write(text, at, bytes === text.length ? 'latin1' : 'utf8');
  out[at] = CR;
  out[at + 1] = LF;
  return at + 2;
}

function digits(n: number): number {
  let d = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    d++;
  }
  return d;
}

/** Writes `<mark><n>\r\n` ('*' or '$' and a count) at `at`; returns where it ends. */
function writeHeader(out: Buffer, at: number, mark: number, n: number): number {
  out[at] = mark;
  const end = at + 1 + digits(n);
  for (let i = end - 1; i > at; i--) {
    out[i] = 0x30 + (n % 10);
    n = Math.floor(n / 10);
  }
  out[end] = CR;
  out[end + 1] = LF;
  return end + 2;
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

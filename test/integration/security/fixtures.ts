// What the security tests share: task providers, an app booted on a private Redis with a
// logger of the test's choosing, a capture of everything the process logs, and checks that
// a secret appears nowhere.
import { inspect } from 'node:util';
import { expect, jest } from '@jest/globals';
import { Injectable, type LoggerService } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import type { Redis } from 'ioredis';
import { Task, TaskClient, TaskContext, TaskQueueModule, type TaskQueueModuleOptions } from '../../../lib/index.js';
import { uniquePrefix } from '../../support/test-redis.js';

/** Runs of each task id, counted in this process (the worker runs here). */
export const runs = new Map<string, number>();

@Injectable()
export class SecurityTasks {
  @Task('sec.add')
  add(x: number, y: number): number {
    return x + y;
  }

  @Task('sec.noop')
  noop(): null {
    return null;
  }

  /** Longer than a third of the lease: it only keeps its lease if the lease-keeper thread renews it. */
  @Task('sec.slow')
  async slow(ms: number, ctx: TaskContext): Promise<string> {
    runs.set(ctx.id, (runs.get(ctx.id) ?? 0) + 1);
    await new Promise((resolve) => setTimeout(resolve, ms));
    return `slow ${ctx.id} attempt ${ctx.attempt}`;
  }

  /** Reports what arrived, as the handler sees it (type, prototype, own keys), and echoes it. */
  @Task('sec.inspect')
  inspectArgs(...args: unknown[]): unknown {
    const seen = args.map((arg) => describeValue(arg));
    return {
      seen,
      echo: args,
      pollutedInWorker: ({} as Record<string, unknown>).polluted ?? null,
      objectPrototypeKeys: Object.getOwnPropertyNames(Object.prototype).filter((k) => k === 'polluted'),
    };
  }
}

export interface ValueReport {
  type: string;
  /** 'Object.prototype', 'null', 'Array.prototype' or 'other' */
  proto: string;
  ownKeys: string[];
  /** The object's own property named "__proto__", when it has one (JSON.parse makes one). */
  ownProtoProperty?: unknown;
  inheritedPolluted: boolean;
}

function describeValue(value: unknown): ValueReport {
  if (typeof value !== 'object' || value === null) {
    return { type: value === null ? 'null' : typeof value, proto: 'none', ownKeys: [], inheritedPolluted: false };
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  const report: ValueReport = {
    type: Array.isArray(value) ? 'array' : 'object',
    proto:
      proto === Object.prototype ? 'Object.prototype' : proto === Array.prototype ? 'Array.prototype' : proto === null ? 'null' : 'other',
    ownKeys: Reflect.ownKeys(value).map(String),
    inheritedPolluted: 'polluted' in value && !Object.prototype.hasOwnProperty.call(value, 'polluted'),
  };
  const own = Object.getOwnPropertyDescriptor(value, '__proto__');
  if (own) report.ownProtoProperty = own.value;
  return report;
}

export interface BootOptions extends Partial<TaskQueueModuleOptions> {
  connection: NonNullable<TaskQueueModuleOptions['connection']>;
  /** Nest logger for the app; `false` (default) silences it. */
  logger?: LoggerService | false;
}

/** Like test/support/nest-app.ts' bootApp, on a connection of the test's choosing, with its logger. */
export async function bootSecureApp({ logger = false, ...options }: BootOptions): Promise<TestingModule> {
  const moduleRef = await Test.createTestingModule({
    imports: [TaskQueueModule.forRoot({ prefix: uniquePrefix('sec'), startupTimeout: 3_000, ...options })],
    providers: [SecurityTasks],
  }).compile();
  moduleRef.useLogger(logger);
  await moduleRef.init();
  return moduleRef;
}

export function client(moduleRef: TestingModule): TaskClient {
  return moduleRef.get(TaskClient);
}

/**
 * Captures everything this process could log: a Nest logger (every argument, objects
 * inspected in depth, so a logged error object with its fields counts), console.* and raw
 * writes to stdout/stderr (worker threads' output arrives there too). Writes are passed on.
 */
export function captureOutput() {
  const lines: string[] = [];
  const push = (...args: unknown[]) => {
    lines.push(args.map((a) => (typeof a === 'string' ? a : inspect(a, { depth: 8, showHidden: true }))).join(' '));
  };
  const logger: LoggerService = {
    log: push,
    error: push,
    warn: push,
    debug: push,
    verbose: push,
    fatal: push,
  };
  const spies = [
    jest.spyOn(console, 'log').mockImplementation(push),
    jest.spyOn(console, 'info').mockImplementation(push),
    jest.spyOn(console, 'warn').mockImplementation(push),
    jest.spyOn(console, 'error').mockImplementation(push),
    jest.spyOn(console, 'debug').mockImplementation(push),
  ];
  const streams = [process.stdout, process.stderr].map((stream) => {
    const original = stream.write.bind(stream);
    const spy = jest.spyOn(stream, 'write').mockImplementation(((chunk: unknown, ...rest: unknown[]) => {
      push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      return (original as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof stream.write);
    return spy;
  });
  return {
    lines,
    logger,
    text: () => lines.join('\n'),
    restore: () => {
      for (const spy of [...spies, ...streams]) spy.mockRestore();
    },
  };
}

/** The forms in which a secret could leak: as is, URL-encoded, base64. */
function secretForms(secret: string): string[] {
  return [...new Set([secret, encodeURIComponent(secret), Buffer.from(secret).toString('base64')])];
}

export function expectNoSecret(text: string, secrets: readonly string[], where: string): void {
  for (const secret of secrets) {
    for (const form of secretForms(secret)) {
      const at = text.indexOf(form);
      // The message names where, and shows the context without the secret itself.
      expect({ where, leaked: at >= 0 ? `…${text.slice(Math.max(0, at - 80), at)}<SECRET>…` : null }).toEqual({
        where,
        leaked: null,
      });
    }
  }
}

/** Every way an error could carry a secret: message, stack, own fields (e.g. an ioredis command's args), cause. */
export function errorText(err: unknown): string {
  if (!(err instanceof Error)) return inspect(err, { depth: 8 });
  let json = '';
  try {
    json = JSON.stringify(err, Object.getOwnPropertyNames(err));
  } catch {
    json = '';
  }
  return [err.message, err.stack ?? '', inspect(err, { depth: 8, showHidden: true }), json, String(err)].join('\n');
}

export interface ClientInfo {
  name: string;
  user: string;
  fields: Record<string, string>;
}

/** CLIENT LIST, parsed: who is connected, as which ACL user, under which connection name. */
export async function clientList(admin: Redis): Promise<ClientInfo[]> {
  const raw = (await admin.call('CLIENT', 'LIST')) as string;
  return raw
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const fields = Object.fromEntries(
        line
          .trim()
          .split(' ')
          .map((kv) => {
            const i = kv.indexOf('=');
            return [kv.slice(0, i), kv.slice(i + 1)];
          }),
      );
      return { name: fields.name ?? '', user: fields.user ?? '', fields };
    });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Runs sec.slow (1.5 s) on a worker whose lease is 1 s, while no-op sends wake the worker every
 * 100 ms: each wake fetches, and a fetch takes back any lease that ran out. So the slow task
 * runs exactly once only if the lease-keeper thread (its own Redis connection) renews the lease.
 * Also watches the lease deadline in Redis: it must move forward while the task runs.
 */
export async function runSlowTaskUnderShortLease(
  moduleRef: TestingModule,
  admin: Redis,
  prefix: string,
): Promise<{ result: unknown; runs: number; deadlines: number[]; deliveries: number }> {
  const tasks = client(moduleRef);
  const handle = await tasks.send('sec.slow', [1_500]);
  const activeKey = `${prefix}:{default}:active`;
  const deadlines: number[] = [];
  let done = false;
  const poke = (async () => {
    while (!done) {
      await tasks.send('sec.noop', []).catch(() => undefined);
      const score = await admin.zscore(activeKey, handle.id);
      if (score !== null) deadlines.push(Number(score));
      await sleep(100);
    }
  })();
  try {
    const result = await handle.result({ timeout: 10_000 });
    const snapshot = await handle.snapshot();
    return { result, runs: runs.get(handle.id) ?? 0, deadlines, deliveries: snapshot.deliveries };
  } finally {
    done = true;
    await poke;
  }
}

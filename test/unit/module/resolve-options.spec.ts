import { describe, expect, it } from '@jest/globals';
import { InvalidOptionsError } from '../../../lib/common/errors.js';
import { resolveOptions, resolveWorkerOptions } from '../../../lib/module/resolve-options.js';
import type { TaskQueueModuleOptions, WorkerOptions } from '../../../lib/module/task-queue-options.interface.js';

const URL0 = 'redis://127.0.0.1:6379/0';

/** The InvalidOptionsError thrown by fn; its option and message are checked by the caller. */
function invalid(fn: () => unknown): InvalidOptionsError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidOptionsError);
    return err as InvalidOptionsError;
  }
  throw new Error('expected an InvalidOptionsError, nothing was thrown');
}

/** Options that the type system would refuse: these arrive from forRootAsync factories or plain JS. */
function loose(options: Record<string, unknown>): TaskQueueModuleOptions {
  return options as unknown as TaskQueueModuleOptions;
}

function expectBadOption(options: Record<string, unknown>, option: string): InvalidOptionsError {
  const err = invalid(() => resolveOptions(loose({ connection: URL0, ...options })));
  expect(err.code).toBe('INVALID_OPTIONS');
  expect(err.option).toBe(option);
  expect(err.message).toContain(`"${option}"`);
  return err;
}

describe('resolveOptions', () => {
  it('fills in every default', () => {
    expect(resolveOptions({ connection: URL0 })).toEqual({
      connection: URL0,
      prefix: 'tq',
      defaultQueue: 'default',
      resultTtl: 86_400,
      startupTimeout: 10_000,
      sendTimeout: 5_000,
      maxPayloadBytes: 1_048_576,
      worker: {
        concurrency: 10,
        queues: ['default'],
        shutdownGraceMs: 30_000,
        leaseMs: 30_000,
        maxDeliveries: 5,
        queueConcurrency: {},
        scheduler: true,
      },
      schedules: [],
    });
  });

  it('keeps given values, and the worker consumes the defaultQueue unless told otherwise', () => {
    const resolved = resolveOptions({
      connection: { host: 'redis.internal', port: 6380 },
      prefix: 'app:tq',
      defaultQueue: 'reports',
      resultTtl: 0,
      startupTimeout: 1,
      sendTimeout: 250,
      maxPayloadBytes: 4_096,
      worker: { concurrency: 3, shutdownGraceMs: 0, leaseMs: 1_000, maxDeliveries: 2 },
    });
    expect(resolved).toEqual({
      connection: { host: 'redis.internal', port: 6380 },
      prefix: 'app:tq',
      defaultQueue: 'reports',
      resultTtl: 0,
      startupTimeout: 1,
      sendTimeout: 250,
      maxPayloadBytes: 4_096,
      worker: {
        concurrency: 3,
        queues: ['reports'],
        shutdownGraceMs: 0,
        leaseMs: 1_000,
        maxDeliveries: 2,
        queueConcurrency: {},
        scheduler: true,
      },
      schedules: [],
    });
  });

  it('accepts isGlobal and rediss URLs', () => {
    expect(resolveOptions(loose({ connection: 'rediss://cache.example.com:6380/1', isGlobal: false })).prefix).toBe('tq');
  });

  it.each([[undefined], [null], ['redis://x'], [42]])('rejects options that are %p', (input) => {
    const err = invalid(() => resolveOptions(input as unknown as TaskQueueModuleOptions));
    expect(err.option).toBe('(options)');
  });

  it('requires a connection', () => {
    expect(invalid(() => resolveOptions(loose({}))).message).toContain('"connection" is required');
  });

  it.each([
    ['not a URL', 'not a url'],
    ['the wrong protocol', 'http://127.0.0.1:6379/0'],
    ['a non-numeric db path', 'redis://127.0.0.1:6379/cache'],
    ['a db path with more segments', 'redis://127.0.0.1:6379/0/1'],
    ['a number', 6379],
    ['null', null],
    ['an array', ['redis://a']],
  ])('rejects a connection that is %s', (_label, connection) => {
    expectBadOption({ connection }, 'connection');
  });

  it('says which protocol was wrong', () => {
    expect(expectBadOption({ connection: 'http://127.0.0.1:6379' }, 'connection').message).toContain('http://');
  });

  it('rejects an unknown option, naming it and listing the known ones', () => {
    const err = expectBadOption({ conection: URL0 }, 'conection');
    expect(err.message).toContain('is not a known option');
    expect(err.message).toContain('connection');
  });

  it('rejects an unknown worker option with its full path', () => {
    expect(expectBadOption({ worker: { concurency: 2 } }, 'worker.concurency').message).toContain('leaseMs');
  });

  it.each([[''], ['a{b}'], ['has space'], ['x'.repeat(33)], [7]])('rejects prefix %p', (prefix) => {
    expectBadOption({ prefix }, 'prefix');
  });

  it('accepts a prefix of 32 characters with : . - _', () => {
    const prefix = 'my-app_v1.2:tq'.padEnd(32, 'x');
    expect(resolveOptions({ connection: URL0, prefix }).prefix).toBe(prefix);
  });

  it.each([['a{b}'], ['{default}'], ['a:b'], [''], ['with space'], ['x'.repeat(65)], [5]])(
    'rejects defaultQueue %p',
    (defaultQueue) => {
      expect(expectBadOption({ defaultQueue }, 'defaultQueue').message).toContain('braces and colons');
    },
  );

  it('accepts a 64-character queue name from the allowed characters', () => {
    const name = 'Reports_v2.high-prio'.padEnd(64, '9');
    expect(resolveOptions({ connection: URL0, defaultQueue: name }).defaultQueue).toBe(name);
  });

  it.each([
    ['resultTtl', -1],
    ['resultTtl', 1.5],
    ['resultTtl', '60'],
    ['resultTtl', Number.NaN],
    ['startupTimeout', 0],
    ['startupTimeout', Number.POSITIVE_INFINITY],
  ])('rejects %s = %p', (option, value) => {
    expect(expectBadOption({ [option]: value }, option).message).toContain('must be an integer >=');
  });

  it.each([
    ['concurrency', 0],
    ['concurrency', -2],
    ['concurrency', 2.5],
    ['shutdownGraceMs', -1],
    ['leaseMs', 999],
    ['leaseMs', '30000'],
  ])('rejects worker.%s = %p', (option, value) => {
    expectBadOption({ worker: { [option]: value } }, `worker.${option}`);
  });

  it('rejects an empty or non-array worker.queues', () => {
    expect(expectBadOption({ worker: { queues: [] } }, 'worker.queues').message).toContain('non-empty array');
    expectBadOption({ worker: { queues: 'a,b' } }, 'worker.queues');
  });

  it('rejects a bad queue name in worker.queues, naming its index', () => {
    expectBadOption({ worker: { queues: ['ok', 'bad:name'] } }, 'worker.queues[1]');
    expectBadOption({ worker: { queues: ['{x}'] } }, 'worker.queues[0]');
  });

  it('removes duplicate worker queues and keeps their order', () => {
    expect(resolveOptions({ connection: URL0, worker: { queues: ['b', 'a', 'b'] } }).worker.queues).toEqual(['b', 'a']);
  });

  it('rejects a worker option that is not an object', () => {
    expectBadOption({ worker: 5 }, 'worker');
  });
});

describe('resolveWorkerOptions', () => {
  const base = { concurrency: 4, queues: ['reports'], shutdownGraceMs: 5_000, leaseMs: 10_000, maxDeliveries: 7, queueConcurrency: {}, scheduler: true };

  it('falls back to the defaults and the default queue', () => {
    expect(resolveWorkerOptions({}, 'default', '')).toEqual({
      concurrency: 10,
      queues: ['default'],
      shutdownGraceMs: 30_000,
      leaseMs: 30_000,
      maxDeliveries: 5,
      queueConcurrency: {},
      scheduler: true,
    });
  });

  it('reads per-queue limits, time-limit defaults and the scheduler switch', () => {
    expect(
      resolveWorkerOptions({ queueConcurrency: { reports: 2 }, softTimeLimit: 500, timeLimit: 1_000, scheduler: false }, 'default', ''),
    ).toMatchObject({ queueConcurrency: { reports: 2 }, softTimeLimit: 500, timeLimit: 1_000, scheduler: false });
    expect(invalid(() => resolveWorkerOptions({ queueConcurrency: { 'a:b': 2 } }, 'default', '')).option).toBe('queueConcurrency.a:b');
    expect(invalid(() => resolveWorkerOptions({ queueConcurrency: { a: 0 } }, 'default', '')).option).toBe('queueConcurrency.a');
    expect(invalid(() => resolveWorkerOptions({ timeLimit: -1 }, 'default', '')).option).toBe('timeLimit');
    expect(invalid(() => resolveWorkerOptions({ scheduler: 'yes' as never }, 'default', '')).option).toBe('scheduler');
  });

  it('falls back to the base (the module options) for what the overrides leave out', () => {
    expect(resolveWorkerOptions({ concurrency: 2 }, 'default', '', base)).toEqual({ ...base, concurrency: 2 });
    expect(resolveWorkerOptions({ queues: ['a', 'b'] }, 'default', '', base).queues).toEqual(['a', 'b']);
  });

  it('names options without a prefix when the path is empty (bootstrapWorker overrides)', () => {
    expect(invalid(() => resolveWorkerOptions({ concurrency: 0 }, 'default', '', base)).option).toBe('concurrency');
    expect(invalid(() => resolveWorkerOptions({ queues: ['a}'] }, 'default', '')).option).toBe('queues[0]');
    expect(invalid(() => resolveWorkerOptions({ queues: [] }, 'default', '', base)).option).toBe('queues');
    expect(invalid(() => resolveWorkerOptions({ queue: ['a'] } as WorkerOptions, 'default', '')).option).toBe('queue');
  });
});

/** Checks the module options and fills in defaults; a bad option fails startup, naming it. */
import { InvalidOptionsError, InvalidQueueNameError } from '../common/errors.js';
import { assertQueueName } from '../broker/keys.js';
import { integer, optionalInteger } from '../common/option-checks.js';
import { assertConnectionSpec } from '../connection/connection-spec.js';
import { threadConnection } from '../worker/lease-keeper.js';
import type {
  ResolvedTaskQueueOptions,
  ResolvedWorkerOptions,
  ScheduleEntry,
  TaskQueueModuleOptions,
  WorkerOptions,
} from './task-queue-options.interface.js';

const KNOWN = new Set([
  'connection',
  'prefix',
  'defaultQueue',
  'resultTtl',
  'startupTimeout',
  'sendTimeout',
  'maxPayloadBytes',
  'worker',
  'schedules',
  'isGlobal',
]);
const KNOWN_WORKER = new Set([
  'concurrency',
  'queues',
  'shutdownGraceMs',
  'leaseMs',
  'maxDeliveries',
  'queueConcurrency',
  'softTimeLimit',
  'timeLimit',
  'scheduler',
]);

export function resolveOptions(input: TaskQueueModuleOptions | undefined): ResolvedTaskQueueOptions {
  if (typeof input !== 'object' || input === null) {
    throw new InvalidOptionsError('(options)', 'must be an object such as { connection: "redis://127.0.0.1:6379/0" }');
  }
  rejectUnknown(input, KNOWN, '');
  if (input.connection === undefined) {
    throw new InvalidOptionsError('connection', 'is required: a redis:// URL or ioredis options');
  }
  assertConnectionSpec(input.connection);
  try {
    threadConnection(input.connection);
  } catch (err) {
    throw new InvalidOptionsError(
      'connection',
      `holds something a worker's lease-keeper thread cannot receive (${(err as Error).message}); ` +
        `pass plain options (strings, numbers, Buffers for TLS certificates)`,
    );
  }
  const prefix = input.prefix ?? 'tq';
  if (typeof prefix !== 'string' || !/^[A-Za-z0-9_.:-]{1,32}$/.test(prefix)) {
    throw new InvalidOptionsError('prefix', 'must be 1-32 characters from A-Z a-z 0-9 _ . : -');
  }
  const defaultQueue = queueName(input.defaultQueue ?? 'default', 'defaultQueue');
  return {
    connection: input.connection,
    prefix,
    defaultQueue,
    resultTtl: integer(input.resultTtl, 'resultTtl', 86_400, 0),
    startupTimeout: integer(input.startupTimeout, 'startupTimeout', 10_000, 1),
    sendTimeout: integer(input.sendTimeout, 'sendTimeout', 5_000, 1),
    maxPayloadBytes: integer(input.maxPayloadBytes, 'maxPayloadBytes', 1_048_576, 256),
    worker: resolveWorkerOptions(input.worker === undefined ? {} : input.worker, defaultQueue, 'worker.'),
    schedules: resolveSchedules(input.schedules),
  };
}

/** Also used for the overrides given to bootstrapWorker(). */
export function resolveWorkerOptions(
  input: WorkerOptions,
  defaultQueue: string,
  path: string,
  base?: ResolvedWorkerOptions,
): ResolvedWorkerOptions {
  if (typeof input !== 'object' || input === null) throw new InvalidOptionsError(path.replace(/\.$/, ''), 'must be an object');
  rejectUnknown(input, KNOWN_WORKER, path);
  const queues = input.queues ?? base?.queues ?? [defaultQueue];
  if (!Array.isArray(queues) || queues.length === 0) {
    throw new InvalidOptionsError(`${path}queues`, 'must be a non-empty array of queue names');
  }
  return {
    concurrency: integer(input.concurrency, `${path}concurrency`, base?.concurrency ?? 10, 1),
    queues: [...new Set(queues.map((q, i) => queueName(q, `${path}queues[${i}]`)))],
    shutdownGraceMs: integer(input.shutdownGraceMs, `${path}shutdownGraceMs`, base?.shutdownGraceMs ?? 30_000, 0),
    leaseMs: integer(input.leaseMs, `${path}leaseMs`, base?.leaseMs ?? 30_000, 1_000),
    maxDeliveries: integer(input.maxDeliveries, `${path}maxDeliveries`, base?.maxDeliveries ?? 5, 1),
    queueConcurrency: queueLimits(input.queueConcurrency, `${path}queueConcurrency`) ?? base?.queueConcurrency ?? {},
    ...optionalInteger(input.softTimeLimit ?? base?.softTimeLimit, `${path}softTimeLimit`, 'softTimeLimit'),
    ...optionalInteger(input.timeLimit ?? base?.timeLimit, `${path}timeLimit`, 'timeLimit'),
    scheduler: flag(input.scheduler, `${path}scheduler`, base?.scheduler ?? true),
  };
}

function queueLimits(value: unknown, option: string): Record<string, number> | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidOptionsError(option, 'must be an object of queue name -> concurrency, e.g. { reports: 2 }');
  }
  const limits: Record<string, number> = {};
  for (const [queue, limit] of Object.entries(value)) {
    limits[queueName(queue, `${option}.${queue}`)] = integer(limit, `${option}.${queue}`, 1, 1);
  }
  return limits;
}

function flag(value: unknown, option: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new InvalidOptionsError(option, `must be true or false, got ${JSON.stringify(value)}`);
  return value;
}

function resolveSchedules(value: unknown): ScheduleEntry[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new InvalidOptionsError('schedules', 'must be an array of { task, cron | every, ... }');
  return value.map((entry: unknown, i) => {
    if (typeof entry !== 'object' || entry === null || typeof (entry as ScheduleEntry).task !== 'string') {
      throw new InvalidOptionsError(`schedules[${i}].task`, 'must name the task to send');
    }
    return entry as ScheduleEntry;
  });
}

function queueName(value: unknown, option: string): string {
  try {
    assertQueueName(value as string);
  } catch (err) {
    if (err instanceof InvalidQueueNameError) throw new InvalidOptionsError(option, `is invalid: ${err.message}`);
    throw err;
  }
  return value as string;
}

function rejectUnknown(input: object, known: Set<string>, path: string): void {
  for (const key of Object.keys(input)) {
    if (!known.has(key)) {
      throw new InvalidOptionsError(`${path}${key}`, `is not a known option (known: ${[...known].join(', ')})`);
    }
  }
}

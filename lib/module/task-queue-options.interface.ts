/** The options of TaskQueueModule.forRoot() / forRootAsync(). */
import type { RedisOptions } from 'ioredis';
import type { ScheduleOptions } from '../scheduler/schedule.js';

export interface WorkerOptions {
  /** Tasks run at once per worker process. Default 10. */
  concurrency?: number;
  /** Queues this worker consumes, in order of preference. Default: [defaultQueue]. */
  queues?: string[];
  /** Milliseconds running tasks may finish after SIGTERM before they are aborted and requeued. Default 30 000. */
  shutdownGraceMs?: number;
  /** Milliseconds a fetched task stays leased without a heartbeat before another worker may take it. Default 30 000. */
  leaseMs?: number;
  /** A message handed to workers more often than this (a poison message that kills them) is dead-lettered. Default 5. */
  maxDeliveries?: number;
  /** At most this many running tasks from one queue, e.g. { reports: 2 }; the others share the rest. */
  queueConcurrency?: Record<string, number>;
  /** Default softTimeLimit (ms) of tasks that set none. */
  softTimeLimit?: number;
  /** Default timeLimit (ms) of tasks that set none. */
  timeLimit?: number;
  /** Run the periodic scheduler in this worker. Default true. */
  scheduler?: boolean;
}

/** WorkerOptions with defaults filled in. */
export interface ResolvedWorkerOptions {
  concurrency: number;
  queues: string[];
  shutdownGraceMs: number;
  leaseMs: number;
  maxDeliveries: number;
  queueConcurrency: Record<string, number>;
  softTimeLimit?: number;
  timeLimit?: number;
  scheduler: boolean;
}

/** A periodic schedule given in the module options rather than on a @Task(). */
export interface ScheduleEntry extends ScheduleOptions {
  /** The task's name. */
  task: string;
}

export interface TaskQueueModuleOptions {
  /** A redis:// or rediss:// URL (the db number is honoured), or ioredis options. */
  connection: string | RedisOptions;
  /** Prefix of every Redis key. Default 'tq'. */
  prefix?: string;
  /** The queue of tasks that name none. Default 'default'. */
  defaultQueue?: string;
  /** Seconds a finished task's state and result are kept. Default 86 400 (one day); 0 keeps them. */
  resultTtl?: number;
  /** Milliseconds to wait for Redis at startup before failing. Default 10 000. */
  startupTimeout?: number;
  /** Milliseconds a send may wait for Redis (while it is unreachable) before it fails. Default 5 000. */
  sendTimeout?: number;
  /** Largest task message (arguments included) a send accepts, in bytes. Default 1 048 576 (1 MiB). */
  maxPayloadBytes?: number;
  worker?: WorkerOptions;
  /** Periodic schedules, besides those declared with @Task({ schedule }). */
  schedules?: ScheduleEntry[];
}

export interface ResolvedTaskQueueOptions {
  connection: string | RedisOptions;
  prefix: string;
  defaultQueue: string;
  resultTtl: number;
  startupTimeout: number;
  sendTimeout: number;
  maxPayloadBytes: number;
  worker: ResolvedWorkerOptions;
  schedules: ScheduleEntry[];
}

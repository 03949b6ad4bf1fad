/**
 * The queue engine in one object: connections, broker, result backend and producer, plain
 * TypeScript over ioredis. The Nest layer wraps it; it imports nothing from Nest.
 */
import type { EngineLogger } from './common/engine-logger.js';
import { RedisUnavailableError } from './common/errors.js';
import { Broker } from './broker/broker.js';
import { EventSubscriber } from './backend/event-subscriber.js';
import { QueueWatch } from './backend/queue-watch.js';
import { ReplyInbox } from './backend/reply-inbox.js';
import { ResultBackend } from './backend/result-backend.js';
import type { ConnectionSpec } from './connection/connection-spec.js';
import { RedisConnections } from './connection/redis-connections.js';
import { whenReady, within } from './connection/when-ready.js';
import { guarded } from './connection/redis-errors.js';
import { Producer } from './producer/producer.js';
import { TaskHandle, type RevokeOptions, type RevokeResult, type Revoker } from './client/task-handle.js';
import type { Schedule } from './scheduler/schedule.js';
import { Scheduler } from './scheduler/scheduler.js';
import type { TaskHandlerLookup } from './worker/task-handler.js';
import { Worker, type TaskLoggerFactory, type WorkerSettings } from './worker/worker.js';

export interface EngineOptions {
  connection: ConnectionSpec;
  prefix: string;
  defaultQueue: string;
  logger: EngineLogger;
  /** Longest a send may wait for Redis. Default 5 000 ms. */
  sendTimeoutMs?: number;
  /** Largest message a send accepts. Default 1 MiB. */
  maxPayloadBytes?: number;
  /** Seconds final states are kept (for revocations written here). Default one day. */
  resultTtlSec?: number;
}

export class TaskQueueEngine {
  readonly connections: RedisConnections;
  readonly broker: Broker;
  readonly backend: ResultBackend;
  readonly producer: Producer;
  readonly subscriber: EventSubscriber;
  readonly watch: QueueWatch;
  readonly replies: ReplyInbox;
  private readonly workers = new Set<Worker>();

  constructor(readonly options: EngineOptions) {
    this.connections = new RedisConnections(options.connection, options.logger);
    this.broker = new Broker(this.connections.commands, options.prefix, this.connections.where);
    this.subscriber = new EventSubscriber(() => this.connections.events);
    const { commands, where } = this.connections;
    this.watch = new QueueWatch(commands, (queue) => this.broker.keys(queue).watched, where);
    this.backend = new ResultBackend(this.broker, this.subscriber, this.watch, where);
    this.replies = new ReplyInbox(options.prefix, this.subscriber);
    this.producer = new Producer(
      this.broker,
      options.defaultQueue,
      { sendTimeoutMs: options.sendTimeoutMs ?? 5_000, maxPayloadBytes: options.maxPayloadBytes ?? 1_048_576 },
      (ms) => whenReady(this.connections.commands, ms, this.connections.where),
      this.connections.where,
      () => this.replies.address,
    );
  }

  /** Revokes a task (see TaskHandle.revoke). */
  revoke(queue: string, id: string, options: RevokeOptions = {}): Promise<RevokeResult> {
    const reason = options.reason ?? 'revoked';
    const ttl = this.options.resultTtlSec ?? 86_400;
    return guarded(this.connections.where, this.broker.revoke(queue, id, reason, options.terminate === true, ttl));
  }

  /**
   * A handle on a task in a known queue, or one found by `locateQueue`; `replied` when its
   * message names this process's reply inbox.
   */
  handle<R>(id: string, queue: string | (() => Promise<string>), replied = false): TaskHandle<R> {
    return new TaskHandle<R>(id, queue, this.backend, this.revoker, this.replies, replied ? Date.now() : undefined);
  }

  /** Shared by every handle (one is made per send: no closure each). */
  private readonly revoker: Revoker = (queue, id, options) => this.revoke(queue, id, options);

  /** Resolves when Redis answers; rejects with RedisUnavailableError after timeoutMs. */
  async ping(timeoutMs: number): Promise<void> {
    const { where } = this.connections;
    await within(guarded(where, this.connections.commands.ping()), timeoutMs, () => {
      const last = this.connections.lastError;
      return new RedisUnavailableError(where, `no answer within ${timeoutMs} ms${last ? ` (last error: ${last})` : ''}`);
    });
  }

  createWorker(handlers: TaskHandlerLookup, settings: WorkerSettings, taskLogger: TaskLoggerFactory): Worker {
    const worker = new Worker(
      this.connections,
      this.broker,
      this.subscriber,
      handlers,
      settings,
      this.options.logger,
      taskLogger,
    );
    this.workers.add(worker);
    return worker;
  }

  createScheduler(schedules: readonly Schedule[], queueOf: (task: string) => string | undefined, logger: EngineLogger): Scheduler {
    return new Scheduler(schedules, this.broker, this.producer, queueOf, logger);
  }

  /** Stops workers (they drain first), then closes every connection. */
  async close(): Promise<void> {
    await Promise.all([...this.workers].map((w) => w.close()));
    this.workers.clear();
    this.replies.close();
    this.watch.close();
    await this.connections.close();
  }
}

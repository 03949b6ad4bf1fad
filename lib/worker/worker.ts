/**
 * The consume loop of one worker process: fetch ready tasks in batches (one round trip for as
 * many as there are free slots), run them with bounded concurrency, commit each outcome with
 * its lease token, and block on one connection while there is nothing to do.
 *
 * The loop survives every Redis error: it logs that it is not consuming, backs off, and says
 * when it consumes again. Shutdown stops fetching, gives running tasks a grace period, then
 * aborts their signals and gives unfinished tasks back to their queue at once.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { EngineLogger } from '../common/engine-logger.js';
import { parseEnvelope, type TaskEnvelope } from '../common/envelope.js';
import { UnknownTaskError, type RemoteErrorInfo } from '../common/errors.js';
import { toJson } from '../common/json.js';
import type { Broker, FetchedTask, Outcome } from '../broker/broker.js';
import type { RedisConnections } from '../connection/redis-connections.js';
import { toErrorInfo } from './error-info.js';
import { RunningTaskContext } from './running-task-context.js';
import { RetryRequest, type TaskLogger } from './task-context.js';
import type { TaskHandler, TaskHandlerLookup } from './task-handler.js';
import { LeaseKeeper } from './lease-keeper.js';

export interface WorkerSettings {
  queues: readonly string[];
  concurrency: number;
  /** How long a fetched task stays leased without a heartbeat. */
  leaseMs: number;
  /** How long running tasks may finish after shutdown begins. */
  shutdownGraceMs: number;
  /** Seconds a final result is kept; 0 keeps it. */
  resultTtlSec: number;
  /** A message handed to workers more often than this (its worker died each time) is dead-lettered. */
  maxDeliveries: number;
  /** Longest single blocking wait; bounds how late expired leases of dead workers are noticed. */
  maxBlockMs?: number;
}

export type TaskLoggerFactory = (taskName: string, id: string) => TaskLogger;

interface Running {
  task: FetchedTask;
  controller: AbortController;
  /** Set when shutdown takes the task back: its outcome must not be committed. */
  releasing: boolean;
  done: Promise<void>;
}

/** Why a message was dead-lettered ('max-deliveries' is decided in fetch.lua). */
export type DeadLetterReason = 'message-missing' | 'malformed' | 'unknown-task' | 'retries-exhausted' | 'max-deliveries';

/** Celery's defaults for self.retry() on a task without a retry policy: 3 retries (with a shorter delay). */
const DEFAULT_MAX_RETRIES = 3;
const DEFAULT_RETRY_DELAY_MS = 1_000;

export class Worker {
  readonly id = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private readonly running = new Map<string, Running>();
  private stopping = false;
  private loopDone: Promise<void> | undefined;
  private leases: LeaseKeeper | undefined;
  private wakeSlot: (() => void) | undefined;
  private healthy = true;

  constructor(
    private readonly connections: RedisConnections,
    private readonly broker: Broker,
    private readonly handlers: TaskHandlerLookup,
    private readonly settings: WorkerSettings,
    private readonly logger: EngineLogger,
    private readonly taskLogger: TaskLoggerFactory,
  ) {
    for (const q of settings.queues) broker.keys(q); // validates queue names before anything starts
  }

  /** True while the loop is fetching without errors. */
  get consuming(): boolean {
    return this.loopDone !== undefined && !this.stopping && this.healthy;
  }

  get inFlight(): number {
    return this.running.size;
  }

  start(): void {
    if (this.loopDone) return;
    this.leases = new LeaseKeeper(this.connections.spec, this.settings.leaseMs, (err) =>
      this.logger.error(`Lease keeper thread failed: ${err.message}; running tasks may be delivered again`),
    );
    this.loopDone = this.loop();
    this.logger.log(
      `Worker ${this.id} consuming [${this.settings.queues.join(', ')}] with concurrency ${this.settings.concurrency}`,
    );
  }

  async close(): Promise<void> {
    if (this.stopping) return this.loopDone;
    this.stopping = true;
    this.wakeSlot?.();
    this.connections.interruptBlocking();
    await this.loopDone;
    const grace = this.settings.shutdownGraceMs;
    if (this.running.size > 0) {
      this.logger.log(`Waiting up to ${grace} ms for ${this.running.size} running task(s)`);
      await settleWithin([...this.running.values()].map((r) => r.done), grace);
    }
    if (this.running.size > 0) {
      this.logger.warn(`${this.running.size} task(s) still running after ${grace} ms: aborting and requeueing them`);
      const left = [...this.running.values()];
      for (const r of left) {
        r.releasing = true;
        r.controller.abort(new Error('Worker shutting down: the task goes back to its queue'));
      }
      // Handlers that honour the signal give their task back themselves; the rest are given back here.
      await settleWithin(
        left.map((r) => r.done),
        Math.min(grace, 1_000),
      );
      await Promise.all(left.map((r) => this.broker.release(r.task).catch(() => false)));
    }
    await this.leases?.close();
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      try {
        if (this.running.size >= this.settings.concurrency) {
          await new Promise<void>((resolve) => (this.wakeSlot = resolve));
          this.wakeSlot = undefined;
          continue;
        }
        const nextDue = await this.fetchRound();
        if (nextDue !== undefined && !this.stopping) {
          const maxBlock = this.settings.maxBlockMs ?? 5_000;
          const timeout = Math.min(Math.max(nextDue - Date.now(), 1), maxBlock);
          await this.broker.waitForWork(this.connections.blocking, this.settings.queues, timeout);
        }
        if (!this.healthy) this.logger.log(`Worker ${this.id} is consuming again`);
        this.healthy = true;
        failures = 0;
      } catch (err) {
        if (this.stopping) break;
        failures++;
        if (this.healthy) this.logger.error(`Worker ${this.id} is NOT consuming: ${(err as Error).message}; retrying`);
        this.healthy = false;
        // The error path only: back off so a Redis outage is not hammered.
        await sleep(Math.min(50 * 2 ** failures, 2_000));
      }
    }
  }

  /** Fetches from each queue in order into free slots; returns when to wake up if nothing came. */
  private async fetchRound(): Promise<number | undefined> {
    let got = 0;
    let nextDue = Number.POSITIVE_INFINITY;
    for (const queue of this.settings.queues) {
      const room = this.settings.concurrency - this.running.size;
      if (room <= 0 || this.stopping) break;
      const result = await this.broker.fetch(queue, room, {
        leaseMs: this.settings.leaseMs,
        workerId: this.id,
        maxDeliveries: this.settings.maxDeliveries,
        resultTtlSec: this.settings.resultTtlSec,
      });
      if (result.nextDue !== null) nextDue = Math.min(nextDue, result.nextDue);
      for (const task of result.tasks) this.begin(task);
      got += result.tasks.length;
    }
    return got === 0 ? nextDue : undefined;
  }

  private begin(task: FetchedTask): void {
    const key = `${task.queue}\n${task.id}`;
    const entry: Running = { task, controller: new AbortController(), releasing: false, done: Promise.resolve() };
    this.running.set(key, entry);
    const activeKey = this.broker.keys(task.queue).active;
    this.leases?.hold(activeKey, task.id);
    entry.done = this.execute(entry)
      .catch((err: unknown) =>
        this.logger.error(`Task ${task.id}: could not record its outcome: ${(err as Error).message}`),
      )
      .finally(() => {
        this.leases?.release(activeKey, task.id);
        this.running.delete(key);
        this.wakeSlot?.();
      });
  }

  private async execute(entry: Running): Promise<void> {
    const { task } = entry;
    if (task.body === '') return this.deadLetter(task, 'message-missing', 'the task has no message body in Redis');
    let envelope: TaskEnvelope;
    try {
      envelope = parseEnvelope(task.body);
    } catch (err) {
      return this.deadLetter(task, 'malformed', (err as Error).message);
    }
    const handler = this.handlers.get(envelope.task);
    if (!handler) return this.deadLetter(task, 'unknown-task', new UnknownTaskError(envelope.task).message);

    const ctx = new RunningTaskContext(
      {
        id: task.id,
        name: envelope.task,
        queue: task.queue,
        attempt: task.delivery,
        retries: task.retries,
        signal: entry.controller.signal,
        logger: this.taskLogger(envelope.task, task.id),
      },
      (metaJson) => this.broker.progress(task, metaJson),
    );
    let resultJson: string;
    try {
      const value: unknown = await handler.invoke(envelope.args, ctx);
      resultJson = toJson(value === undefined ? null : value, 'The result');
    } catch (err) {
      if (entry.releasing) return void (await this.broker.release(task));
      return this.failed(task, handler, err);
    }
    if (entry.releasing) return void (await this.broker.release(task));
    await this.commit(task, { state: 'SUCCESS', resultJson }, handler.ignoreResult);
  }

  /** A run failed: retry it within its budget, or record the failure (and dead-letter it if asked). */
  private async failed(task: FetchedTask, handler: TaskHandler, thrown: unknown): Promise<void> {
    const request = thrown instanceof RetryRequest ? thrown.options : undefined;
    const cause = request ? (request.error ?? new Error('Retry requested by the task')) : thrown;
    const error = toErrorInfo(cause);
    const policy = handler.retry;
    const budget = policy?.max ?? (request ? DEFAULT_MAX_RETRIES : 0);
    const wanted = request !== undefined || (policy?.retries(cause) ?? false);
    if (wanted && task.retries < budget) {
      const delay = request?.countdown ?? policy?.delayFor(task.retries + 1) ?? DEFAULT_RETRY_DELAY_MS;
      const scheduled = await this.broker.retry(task, Date.now() + delay, JSON.stringify(error));
      if (!scheduled) this.lostLease(task);
      return;
    }
    const final = { ...error, attempts: task.delivery, retries: task.retries };
    if (wanted && policy?.deadLetter) {
      return this.deadLetter(task, 'retries-exhausted', `${error.name}: ${error.message}`, final);
    }
    await this.commit(task, { state: 'FAILURE', errorJson: JSON.stringify(final) });
  }

  private async commit(task: FetchedTask, outcome: Outcome, ignoreResult = false): Promise<void> {
    const committed = await this.broker.complete(task, outcome, this.settings.resultTtlSec, ignoreResult);
    if (!committed) this.lostLease(task);
  }

  private lostLease(task: FetchedTask): void {
    this.logger.warn(`Task ${task.id}: its lease was taken over by another delivery; this run's outcome is dropped`);
  }

  private async deadLetter(
    task: FetchedTask,
    reason: DeadLetterReason,
    detail: string,
    error: RemoteErrorInfo = {
      name: reason === 'unknown-task' ? 'UnknownTaskError' : 'MalformedMessageError',
      message: `Dead-lettered (${reason}): ${detail}`,
    },
  ): Promise<void> {
    this.logger.warn(`Task ${task.id} in queue ${task.queue} dead-lettered (${reason}): ${detail}`);
    const entry = {
      id: task.id,
      queue: task.queue,
      reason,
      detail,
      message: task.body,
      at: Date.now(),
      worker: this.id,
    };
    await this.broker.deadLetter(task, JSON.stringify(entry), JSON.stringify(error), this.settings.resultTtlSec);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function settleWithin(promises: Promise<unknown>[], ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.allSettled(promises),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))),
  ]);
  clearTimeout(timer);
}

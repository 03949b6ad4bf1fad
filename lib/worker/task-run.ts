/**
 * One run of one fetched task, from its message to a committed outcome: parse and check the
 * message (dead-letter what cannot run), hold to the task's rate limit, run the handler with
 * its context and time limits, then commit SUCCESS, RETRY or FAILURE with the lease token.
 *
 * A run is settled once: by its handler's outcome, or earlier by terminate (revoke), by its hard
 * time limit, or by shutdown giving it back. Settling frees the worker's slot; whatever the
 * handler does after that is not committed.
 */
import type { EngineLogger } from '../common/engine-logger.js';
import { parseEnvelope, type TaskEnvelope } from '../common/envelope.js';
import {
  SoftTimeLimitExceeded,
  TaskRevokedError,
  TimeLimitExceeded,
  UnknownTaskError,
  type RemoteErrorInfo,
} from '../common/errors.js';
import { toJson } from '../common/json.js';
import { ReplyInbox } from '../backend/reply-inbox.js';
import type { Broker, FetchedTask, Outcome, SentBy } from '../broker/broker.js';
import { toErrorInfo } from './error-info.js';
import { RunningTaskContext } from './running-task-context.js';
import { RetryRequest, type TaskLogger } from './task-context.js';
import type { TaskHandler, TaskHandlerLookup } from './task-handler.js';

/** Why a message was dead-lettered ('max-deliveries' is decided in fetch.lua). */
export type DeadLetterReason = 'message-missing' | 'malformed' | 'unknown-task' | 'retries-exhausted' | 'max-deliveries';

/** Celery's default budget for self.retry() on a task without a retry policy: 3 retries. */
const DEFAULT_MAX_RETRIES = 3;
const DEFAULT_RETRY_DELAY_MS = 1_000;

export interface RunSettings {
  resultTtlSec: number;
  /** Defaults for tasks that set none. */
  softTimeLimitMs?: number;
  timeLimitMs?: number;
}

export interface RunDeps {
  broker: Broker;
  handlers: TaskHandlerLookup;
  settings: RunSettings;
  logger: EngineLogger;
  taskLogger: (taskName: string, id: string) => TaskLogger;
  workerId: string;
}

/**
 * Runs are made per task, so what most runs never need is made on first use (the done promise,
 * the timer list, the abort controller): the hot path counts allocations.
 */
export class TaskRun {
  private settled = false;
  private slotFreed = false;
  private timers: NodeJS.Timeout[] | undefined;
  private resolveDone: (() => void) | undefined;
  private donePromise: Promise<void> | undefined;
  private abortController: AbortController | undefined;
  /** What the commit takes from the message: the sender's reply channel, name, creation time. */
  private sent: SentBy | undefined;

  constructor(
    readonly task: FetchedTask,
    private readonly deps: RunDeps,
  ) {}

  /** Resolves when the run is settled and its slot is free. */
  get done(): Promise<void> {
    if (this.slotFreed) return Promise.resolve();
    return (this.donePromise ??= new Promise<void>((resolve) => (this.resolveDone = resolve)));
  }

  /** Made on first use: most tasks never look at their signal, and most runs are never aborted. */
  get controller(): AbortController {
    return (this.abortController ??= new AbortController());
  }

  /** Runs to the end (the outcome committed); never rejects (Redis errors are logged: the lease brings the task back). */
  async run(): Promise<void> {
    // Settled before it started (terminated, abandoned or given back while its batch waited a
    // turn, see Worker.startBatch): its handler must not run.
    if (!this.settled) {
      try {
        await this.execute();
      } catch (err) {
        this.deps.logger.error(`Task ${this.task.id}: could not record its outcome: ${(err as Error).message}`);
        this.settle();
      }
    }
    this.onFinished();
  }

  /** Called once when the run is settled: its slot is free (for the worker that holds the slots). */
  protected onSettled(): void {}

  /** Called once when run() is over: its outcome is committed, or could not be. */
  protected onFinished(): void {}

  /** Revoke with terminate: abort the handler and end the task REVOKED now. */
  async terminate(reason: string): Promise<void> {
    await this.settleWith(async () => {
      this.controller.abort(new TaskRevokedError(this.task.id, reason));
      const error = JSON.stringify({ name: 'TaskRevokedError', message: reason });
      await this.commit({ state: 'REVOKED', errorJson: error });
    });
  }

  /**
   * Another delivery of this task came back to this worker (this run's lease ran out): stop
   * this run without committing anything; the new delivery owns the task.
   */
  abandon(): void {
    void this.settleWith(async () => {
      this.controller.abort(new Error('The lease of this run ran out and the task was delivered again'));
    });
  }

  /** Shutdown after the grace period: abort the handler and put the task back on its queue at once. */
  async giveBack(): Promise<void> {
    await this.settleWith(async () => {
      this.controller.abort(new Error('Worker shutting down: the task goes back to its queue'));
      await this.deps.broker.release(this.task);
    });
  }

  private async execute(): Promise<void> {
    const { task } = this;
    if (task.body === '') {
      return this.settleWith(() => this.deadLetter('message-missing', 'the task has no message body in Redis'));
    }
    let envelope: TaskEnvelope;
    try {
      envelope = parseEnvelope(task.body);
    } catch (err) {
      return this.settleWith(() => this.deadLetter('malformed', (err as Error).message));
    }
    this.sent = this.sentBy(envelope);
    const handler = this.deps.handlers.get(envelope.task);
    if (!handler) {
      return this.settleWith(() => this.deadLetter('unknown-task', new UnknownTaskError(envelope.task).message));
    }
    if (handler.rateLimit && !(await this.holdRateLimit(envelope.task, handler.rateLimit.intervalMs))) return;
    this.armTimeLimits(handler);

    // Most tasks take no context: then none is made (it allocates; the hot path counts).
    const ctx =
      handler.takesContext === false
        ? undefined
        : new RunningTaskContext(
            {
              id: task.id,
              name: envelope.task,
              queue: task.queue,
              attempt: task.delivery,
              retries: task.retries,
              signal: () => this.controller.signal,
              logger: () => this.deps.taskLogger(envelope.task, task.id),
            },
            (metaJson) => this.deps.broker.progress(task, metaJson),
          );
    let resultJson: string;
    try {
      const value: unknown = await handler.invoke(envelope.args, ctx);
      resultJson = toJson(value === undefined ? null : value, 'The result');
    } catch (err) {
      return this.settleWith(() => this.failed(handler, err));
    }
    await this.settleWith(() => this.commit({ state: 'SUCCESS', resultJson }, handler.ignoreResult));
  }

  /**
   * Waits for this task's turn under its rate limit. A task without a slot reserves one; if it
   * is later, the task waits for it in the delayed set (false: this run is over). At its slot it
   * records its start, first waiting here for the few ms by which an earlier slot's task ran late.
   */
  private async holdRateLimit(name: string, intervalMs: number): Promise<boolean> {
    const { broker } = this.deps;
    const { task } = this;
    if (task.reservation === 0) {
      const slot = await broker.reserveRateSlot(task.queue, name, intervalMs);
      if (slot > Date.now()) {
        await this.settleWith(() => broker.defer(task, Math.ceil(slot)));
        return false;
      }
    }
    for (;;) {
      const waitUntil = await broker.claimRateStart(task.queue, name, intervalMs);
      if (waitUntil === 0) return true;
      await new Promise((resolve) => setTimeout(resolve, Math.max(waitUntil - Date.now(), 1)));
    }
  }

  private armTimeLimits(handler: TaskHandler): void {
    const soft = handler.softTimeLimitMs ?? this.deps.settings.softTimeLimitMs;
    const hard = handler.timeLimitMs ?? this.deps.settings.timeLimitMs;
    if (soft === undefined && hard === undefined) return;
    const timers: NodeJS.Timeout[] = (this.timers = []);
    if (soft !== undefined) {
      timers.push(setTimeout(() => this.controller.abort(new SoftTimeLimitExceeded(soft)), soft));
    }
    if (hard !== undefined) {
      timers.push(
        setTimeout(() => {
          const error = new TimeLimitExceeded(hard);
          void this.settleWith(async () => {
            this.controller.abort(error);
            await this.commit({ state: 'FAILURE', errorJson: JSON.stringify(this.finalError(toErrorInfo(error))) });
          }).catch((err: unknown) => this.deps.logger.error(`Task ${this.task.id}: ${(err as Error).message}`));
        }, hard),
      );
    }
  }

  /** A run failed: retry it within its budget, or record the failure (and dead-letter it if asked). */
  private async failed(handler: TaskHandler, thrown: unknown): Promise<void> {
    const { task } = this;
    const request = thrown instanceof RetryRequest ? thrown.options : undefined;
    const cause = request ? (request.error ?? new Error('Retry requested by the task')) : thrown;
    const error = toErrorInfo(cause);
    const policy = handler.retry;
    const budget = policy?.max ?? (request ? DEFAULT_MAX_RETRIES : 0);
    const wanted = request !== undefined || (policy?.retries(cause) ?? false);
    if (wanted && task.retries < budget) {
      const delay = request?.countdown ?? policy?.delayFor(task.retries + 1) ?? DEFAULT_RETRY_DELAY_MS;
      const scheduled = await this.deps.broker.retry(task, Date.now() + delay, JSON.stringify(error));
      if (!scheduled) this.lostLease();
      return;
    }
    const final = this.finalError(error);
    if (wanted && policy?.deadLetter) {
      return this.deadLetter('retries-exhausted', `${error.name}: ${error.message}`, final);
    }
    await this.commit({ state: 'FAILURE', errorJson: JSON.stringify(final) });
  }

  private finalError(error: RemoteErrorInfo): RemoteErrorInfo {
    return { ...error, attempts: this.task.delivery, retries: this.task.retries };
  }

  private async commit(outcome: Outcome, ignoreResult = false): Promise<void> {
    const { broker, settings } = this.deps;
    // A run terminated before it read its message (its batch waited a turn) reads it now.
    this.sent ??= this.sentBy(tryParseEnvelope(this.task.body));
    if (!(await broker.complete(this.task, outcome, settings.resultTtlSec, this.sent, ignoreResult))) this.lostLease();
  }

  private sentBy(envelope: TaskEnvelope | undefined): SentBy {
    if (!envelope) return { reply: '', name: '', createdAt: '' };
    return {
      reply: ReplyInbox.accepts(this.deps.broker.prefix, envelope.reply) ? envelope.reply : '',
      name: envelope.task,
      createdAt: envelope.ct === undefined ? '' : String(envelope.ct),
    };
  }

  private lostLease(): void {
    this.deps.logger.warn(`Task ${this.task.id}: its lease was taken over by another delivery; this run's outcome is dropped`);
  }

  /** Records a dead letter; the caller settles the run. */
  private async deadLetter(reason: DeadLetterReason, detail: string, error?: RemoteErrorInfo): Promise<void> {
    const { task, deps } = this;
    deps.logger.warn(`Task ${task.id} in queue ${task.queue} dead-lettered (${reason}): ${detail}`);
    const entry = { id: task.id, queue: task.queue, reason, detail, message: task.body, at: Date.now(), worker: deps.workerId };
    const recorded = error ?? {
      name: reason === 'unknown-task' ? 'UnknownTaskError' : 'MalformedMessageError',
      message: `Dead-lettered (${reason}): ${detail}`,
    };
    await deps.broker.deadLetter(task, JSON.stringify(entry), JSON.stringify(recorded), deps.settings.resultTtlSec);
  }

  /**
   * Runs `last` only if nothing settled the run before. The slot is freed as soon as `last` has
   * issued its Redis call, not when the reply comes: the worker's next fetch follows this commit
   * on the same connection without waiting for its answer (or carries it), and Redis runs them in
   * that order.
   */
  private async settleWith(last: () => Promise<unknown>): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    let issued: Promise<unknown>;
    try {
      issued = last();
    } finally {
      this.settle();
    }
    await issued;
  }

  private settle(): void {
    this.settled = true;
    if (this.timers) for (const timer of this.timers) clearTimeout(timer);
    this.timers = undefined;
    // Called again when a commit issued on settling fails (see run): the slot is freed once.
    if (this.slotFreed) return;
    this.slotFreed = true;
    this.resolveDone?.();
    this.onSettled();
  }
}

function tryParseEnvelope(body: string): TaskEnvelope | undefined {
  try {
    return parseEnvelope(body);
  } catch {
    return undefined;
  }
}

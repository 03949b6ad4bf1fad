/**
 * What a running task can see and do. A handler receives it as its last parameter when it
 * declares one of this type (the worker finds it through the emitted design:paramtypes, which
 * is why this is a class and not an interface).
 */
export interface TaskLogger {
  log(message: unknown, ...optionalParams: unknown[]): void;
  error(message: unknown, ...optionalParams: unknown[]): void;
  warn(message: unknown, ...optionalParams: unknown[]): void;
  debug(message: unknown, ...optionalParams: unknown[]): void;
  verbose(message: unknown, ...optionalParams: unknown[]): void;
}

export abstract class TaskContext {
  /** The task's id. */
  abstract readonly id: string;
  /** The task's registered name. */
  abstract readonly name: string;
  /** The queue it was taken from. */
  abstract readonly queue: string;
  /** Which run this is: 1 on the first, growing with every retry and every redelivery. */
  abstract readonly attempt: number;
  /** Retries made before this run (Celery's request.retries). */
  abstract readonly retries: number;
  /** Aborts when the task must stop: worker shutdown after the grace period, revoke, time limit. */
  abstract readonly signal: AbortSignal;
  /** A logger whose context names the task and its id. */
  abstract readonly logger: TaskLogger;
  /**
   * Records progress (state PROGRESS with this meta, like Celery's update_state) and pushes it
   * to everyone watching the task. The meta must be JSON.
   */
  abstract progress(meta: unknown): Promise<void>;
  /**
   * Ends this run and schedules the task again (Celery's self.retry), within the task's retry
   * budget (its retry.max, or 3 when it has no retry policy); past it, the task fails with
   * `error`. Throws, so `return ctx.retry(...)` or `throw ctx.retry(...)` both read well.
   */
  abstract retry(options?: RetryRequestOptions): never;
}

export interface RetryRequestOptions {
  /** Milliseconds until the next run; default: the task's backoff delay. */
  countdown?: number;
  /** The error this run failed with; recorded in RETRY and, past the budget, in FAILURE. */
  error?: unknown;
}

/** What ctx.retry() throws; the worker catches it. */
export class RetryRequest extends Error {
  constructor(readonly options: RetryRequestOptions) {
    super('Retry requested by the task');
    this.name = 'RetryRequest';
  }
}

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
  /** 1 on the first run; grows with retries. */
  abstract readonly attempt: number;
  /** How many times this message has been handed to a worker (redeliveries included). */
  abstract readonly delivery: number;
  /** Aborts when the task must stop: worker shutdown after the grace period, revoke, time limit. */
  abstract readonly signal: AbortSignal;
  /** A logger whose context names the task and its id. */
  abstract readonly logger: TaskLogger;
  /**
   * Records progress (state PROGRESS with this meta, like Celery's update_state) and pushes it
   * to everyone watching the task. The meta must be JSON.
   */
  abstract progress(meta: unknown): Promise<void>;
}

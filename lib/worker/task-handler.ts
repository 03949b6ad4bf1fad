/** How the worker finds the code of a task: the Nest layer fills this from the @Task registry. */
import type { RetryPolicy } from './retry-policy.js';
import type { TaskContext } from './task-context.js';

export interface TaskHandler {
  readonly name: string;
  /** false when the handler declares no TaskContext: none is made for it. Default true. */
  readonly takesContext?: boolean;
  /** Drop the task's state and result once it succeeds (Celery's ignore_result); failures are kept. */
  readonly ignoreResult?: boolean;
  /** What to do when a run fails; no retries when left out. */
  readonly retry?: RetryPolicy;
  /** Milliseconds after which ctx.signal aborts with SoftTimeLimitExceeded. */
  readonly softTimeLimitMs?: number;
  /** Milliseconds after which the run is ended FAILURE with TimeLimitExceeded. */
  readonly timeLimitMs?: number;
  /** Starts of this task, across all workers, are at least this far apart. */
  readonly rateLimit?: { intervalMs: number };
  invoke(args: unknown[], ctx: TaskContext | undefined): unknown;
}

export interface TaskHandlerLookup {
  get(name: string): TaskHandler | undefined;
}

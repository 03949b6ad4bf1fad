/**
 * @Task() marks a provider method as a task. Its name defaults to 'ClassName.method'.
 *
 *   @Task()                          -> 'ReportTasks.add'
 *   @Task('reports.build')           -> 'reports.build'
 *   @Task({ name, queue })           -> a name and a default queue
 */
import { TASK_METADATA } from '../module/task-queue.constants.js';
import type { ScheduleOptions } from '../scheduler/schedule.js';
import type { RetryOptions } from '../worker/retry-policy.js';

export interface TaskOptions {
  /** The task's name; 'ClassName.method' when left out. */
  name?: string;
  /** The queue its messages go to unless a send names another; the module's defaultQueue when left out. */
  queue?: string;
  /** Do not keep the state and result once the task succeeds (Celery's ignore_result). Failures are kept. */
  ignoreResult?: boolean;
  /** Retry failed runs with backoff; see RetryOptions. No retries when left out. */
  retry?: RetryOptions;
  /** Milliseconds after which ctx.signal aborts with SoftTimeLimitExceeded (the task may clean up). */
  softTimeLimit?: number;
  /** Milliseconds after which the run ends FAILURE with TimeLimitExceeded and its slot is freed. */
  timeLimit?: number;
  /** At most this many starts per second, minute or hour across all workers: '100/s', '10/m', '5/h'. */
  rateLimit?: string;
  /** Send this task periodically (every worker may run the scheduler; each tick is sent once). */
  schedule?: ScheduleOptions | ScheduleOptions[];
}

export function Task(nameOrOptions?: string | TaskOptions): MethodDecorator {
  const options: TaskOptions = typeof nameOrOptions === 'string' ? { name: nameOrOptions } : { ...nameOrOptions };
  return (target, propertyKey, descriptor) => {
    Reflect.defineMetadata(TASK_METADATA, options, descriptor.value as object);
    return descriptor;
  };
}

/**
 * @Task() marks a provider method as a task. Its name defaults to 'ClassName.method'.
 *
 *   @Task()                          -> 'ReportTasks.add'
 *   @Task('reports.build')           -> 'reports.build'
 *   @Task({ name, queue })           -> a name and a default queue
 */
import { TASK_METADATA } from '../module/task-queue.constants.js';
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
}

export function Task(nameOrOptions?: string | TaskOptions): MethodDecorator {
  const options: TaskOptions = typeof nameOrOptions === 'string' ? { name: nameOrOptions } : { ...nameOrOptions };
  return (target, propertyKey, descriptor) => {
    Reflect.defineMetadata(TASK_METADATA, options, descriptor.value as object);
    return descriptor;
  };
}

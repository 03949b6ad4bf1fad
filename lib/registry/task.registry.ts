/**
 * The tasks found at bootstrap: name -> the provider instance and method that run it.
 * Users may inject it to list what is registered; the worker looks handlers up here.
 */
import { Injectable } from '@nestjs/common';
import { DuplicateTaskError, InvalidArgumentError, InvalidOptionsError } from '../common/errors.js';
import { optionalInteger } from '../common/option-checks.js';
import { Schedule, type ScheduleOptions } from '../scheduler/schedule.js';
import { parseRateLimit } from './rate-limit.js';
import { RetryPolicy, type RetryOptions } from '../worker/retry-policy.js';
import type { TaskContext } from '../worker/task-context.js';
import type { TaskHandler, TaskHandlerLookup } from '../worker/task-handler.js';

export interface RegisteredTask extends TaskHandler {
  readonly name: string;
  /** The queue the task's messages go to by default; undefined means the module's defaultQueue. */
  readonly queue: string | undefined;
  readonly className: string;
  readonly methodName: string;
  readonly takesContext: boolean;
}

export interface TaskRegistration {
  name: string;
  ignoreResult?: boolean;
  retry?: RetryOptions;
  softTimeLimit?: number;
  timeLimit?: number;
  rateLimit?: string;
  queue: string | undefined;
  instance: object;
  className: string;
  methodName: string;
  parameterCount: number | undefined;
  takesContext: boolean;
}

@Injectable()
export class TaskRegistry implements TaskHandlerLookup {
  private readonly tasks = new Map<string, RegisteredTask>();
  private readonly declaredSchedules: Schedule[] = [];

  register(r: TaskRegistration): void {
    const existing = this.tasks.get(r.name);
    if (existing) {
      throw new DuplicateTaskError(r.name, `${existing.className}.${existing.methodName}`, `${r.className}.${r.methodName}`);
    }
    const where = `@Task('${r.name}')`;
    const limits = {
      ...optionalInteger(r.softTimeLimit, `${where} softTimeLimit`, 'softTimeLimitMs'),
      ...optionalInteger(r.timeLimit, `${where} timeLimit`, 'timeLimitMs'),
      ...(r.rateLimit !== undefined ? { rateLimit: parseRateLimit(r.rateLimit, `${where} rateLimit`) } : {}),
    };
    const method = (r.instance as Record<string, (...args: unknown[]) => unknown>)[r.methodName];
    const argCount = r.takesContext ? (r.parameterCount ?? 1) - 1 : undefined;
    this.tasks.set(r.name, {
      name: r.name,
      queue: r.queue,
      className: r.className,
      methodName: r.methodName,
      takesContext: r.takesContext,
      ignoreResult: r.ignoreResult === true,
      ...(r.retry ? { retry: new RetryPolicy(r.retry, `${where} retry`) } : {}),
      ...limits,
      invoke(args: unknown[], ctx: TaskContext | undefined): unknown {
        if (argCount === undefined) return method.apply(r.instance, args);
        // The context goes in its declared place, however many arguments the sender passed.
        if (args.length > argCount) {
          throw new InvalidArgumentError(
            `Task ${r.name}`,
            `takes ${argCount} argument(s) before its TaskContext but was sent ${args.length}`,
          );
        }
        const full: unknown[] = [...args];
        full.length = argCount;
        full.push(ctx);
        return method.apply(r.instance, full);
      },
    });
  }

  get(name: string): RegisteredTask | undefined {
    return this.tasks.get(name);
  }

  all(): RegisteredTask[] {
    return [...this.tasks.values()];
  }

  /** Periodic schedules declared with @Task({ schedule }). */
  schedules(): Schedule[] {
    return [...this.declaredSchedules];
  }

  addSchedule(task: string, options: ScheduleOptions, where: string): void {
    const name = options.name ?? task;
    if (this.declaredSchedules.some((s) => s.name === name)) {
      throw new InvalidOptionsError(`${where}.name`, `"${name}" names two schedules: give each its own name`);
    }
    this.declaredSchedules.push(new Schedule(name, task, options, where));
  }

  /** Queues named by registered tasks (not counting the default queue). */
  queues(): string[] {
    return [...new Set(this.all().flatMap((t) => (t.queue ? [t.queue] : [])))];
  }
}

/**
 * TaskClient: send tasks from anywhere in the app and get handles on them. Injectable in any
 * provider without importing TaskQueueModule again (the module is global).
 */
import { Inject, Injectable, type Type } from '@nestjs/common';
import { NotATaskError } from '../common/errors.js';
import { TaskMetadataAccessor } from '../discovery/task-metadata.accessor.js';
import { TaskQueueEngine } from '../engine.js';
import { TASK_QUEUE_OPTIONS } from '../module/task-queue.constants.js';
import type { ResolvedTaskQueueOptions } from '../module/task-queue-options.interface.js';
import type { SendOptions } from '../producer/send-options.js';
import { TaskRegistry } from '../registry/task.registry.js';
import type { TaskArgs, TaskMethodName, TaskResult } from './call-types.js';
import type { RevokeOptions, RevokeResult, TaskHandle } from './task-handle.js';

export interface BulkTask {
  name: string;
  args?: readonly unknown[];
  options?: SendOptions;
}

export interface HandleOptions {
  /** The task's queue, when known; otherwise the queues this app knows are searched. */
  queue?: string;
}

@Injectable()
export class TaskClient {
  constructor(
    private readonly engine: TaskQueueEngine,
    private readonly registry: TaskRegistry,
    @Inject(TASK_QUEUE_OPTIONS) private readonly options: ResolvedTaskQueueOptions,
  ) {}

  /** Sends a task by name (Celery's apply_async). Arguments must be JSON. */
  async send(name: string, args: readonly unknown[] = [], options: SendOptions = {}): Promise<TaskHandle<unknown>> {
    const sent = await this.engine.producer.send(name, args, options, this.registry.get(name)?.queue);
    return this.inQueue(sent.id, sent.queue, sent.replied);
  }

  /**
   * Sends many tasks in one round trip per queue (bulk enqueue). All arguments are checked
   * first: one that is not JSON fails the whole batch and nothing is sent.
   */
  async sendMany(tasks: readonly BulkTask[]): Promise<TaskHandle<unknown>[]> {
    const sent = await this.engine.producer.sendMany(
      tasks.map((t) => ({ task: t.name, args: t.args ?? [], options: t.options ?? {}, queueOfTask: this.registry.get(t.name)?.queue })),
    );
    return sent.map((s) => this.inQueue(s.id, s.queue, s.replied));
  }

  /** Sends a task by its class and method: arguments and result type are checked at compile time. */
  async call<T extends object, K extends TaskMethodName<T>>(
    provider: Type<T>,
    method: K,
    args: TaskArgs<T[K]>,
    options: SendOptions = {},
  ): Promise<TaskHandle<TaskResult<T[K]>>> {
    const task = TaskMetadataAccessor.ofClassMethod(provider, method);
    if (!task) throw new NotATaskError(provider.name, method);
    const sent = await this.engine.producer.send(task.name, args as readonly unknown[], options, task.queue);
    return this.inQueue<TaskResult<T[K]>>(sent.id, sent.queue, sent.replied);
  }

  /** Revokes a task by id (see TaskHandle.revoke). */
  revoke(id: string, options: RevokeOptions & HandleOptions = {}): Promise<RevokeResult> {
    const { queue, ...revokeOptions } = options;
    return this.handle(id, queue === undefined ? {} : { queue }).revoke(revokeOptions);
  }

  /** A handle on a task whose queue is known; `replied` when its message names our reply inbox. */
  private inQueue<R>(id: string, queue: string, replied = false): TaskHandle<R> {
    return this.engine.handle<R>(id, queue, replied);
  }

  /** A handle on any task by id (Celery's AsyncResult(id)). An unknown id reads as PENDING. */
  handle<R = unknown>(id: string, options: HandleOptions = {}): TaskHandle<R> {
    const { queue } = options;
    if (queue !== undefined) {
      this.engine.broker.keys(queue); // validates the name
      return this.inQueue<R>(id, queue);
    }
    let found: string | undefined;
    const locate = async (): Promise<string> => {
      if (found) return found;
      const candidates = [
        ...new Set([this.options.defaultQueue, ...this.registry.queues(), ...this.options.worker.queues]),
      ];
      const exists = await Promise.all(candidates.map((q) => this.engine.backend.exists(q, id)));
      const index = exists.indexOf(true);
      if (index < 0) return this.options.defaultQueue;
      found = candidates[index];
      return found as string;
    };
    return this.engine.handle<R>(id, locate);
  }
}

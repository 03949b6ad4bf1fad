/**
 * Operations on queues rather than on single tasks: pause and resume, and the dead-letter
 * stores (list, requeue, purge). Injectable anywhere, like TaskClient.
 */
import { Inject, Injectable } from '@nestjs/common';
import type { DeadLetterQueue } from '../broker/dead-letters.js';
import { TaskQueueEngine } from '../engine.js';
import { TASK_QUEUE_OPTIONS } from './task-queue.constants.js';
import type { ResolvedTaskQueueOptions } from './task-queue-options.interface.js';

@Injectable()
export class TaskQueueAdmin {
  constructor(
    private readonly engine: TaskQueueEngine,
    @Inject(TASK_QUEUE_OPTIONS) private readonly options: ResolvedTaskQueueOptions,
  ) {}

  /** No worker takes tasks from a paused queue; sending to it still works. */
  async pause(queue: string = this.options.defaultQueue): Promise<void> {
    await this.engine.broker.pause(queue);
  }

  /** Lets workers take tasks from the queue again, waking one at once. */
  async resume(queue: string = this.options.defaultQueue): Promise<void> {
    await this.engine.broker.resume(queue);
  }

  async isPaused(queue: string = this.options.defaultQueue): Promise<boolean> {
    return this.engine.broker.isPaused(queue);
  }

  /** The dead-letter store of a queue (the default queue when left out). */
  deadLetters(queue: string = this.options.defaultQueue): DeadLetterQueue {
    return this.engine.broker.deadLetters(queue);
  }
}

/**
 * Operations on queues rather than on single tasks: the dead-letter stores (list, requeue,
 * purge). Injectable anywhere, like TaskClient.
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

  /** The dead-letter store of a queue (the default queue when left out). */
  deadLetters(queue: string = this.options.defaultQueue): DeadLetterQueue {
    return this.engine.broker.deadLetters(queue);
  }
}

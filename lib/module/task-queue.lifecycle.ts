/** Checks Redis at startup (fail early, in words) and closes the engine's connections last. */
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { TaskQueueEngine } from '../engine.js';
import { TASK_QUEUE_OPTIONS } from './task-queue.constants.js';
import type { ResolvedTaskQueueOptions } from './task-queue-options.interface.js';

@Injectable()
export class TaskQueueLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    private readonly engine: TaskQueueEngine,
    @Inject(TASK_QUEUE_OPTIONS) private readonly options: ResolvedTaskQueueOptions,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.engine.ping(this.options.startupTimeout);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.engine.close();
  }
}

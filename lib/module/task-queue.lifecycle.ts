/** Checks Redis at startup (fail early, in words) and closes the engine's connections last. */
import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { TaskQueueEngine } from '../engine.js';
import { TASK_QUEUE_OPTIONS } from './task-queue.constants.js';
import type { ResolvedTaskQueueOptions } from './task-queue-options.interface.js';

@Injectable()
export class TaskQueueLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  constructor(
    private readonly engine: TaskQueueEngine,
    @Inject(TASK_QUEUE_OPTIONS) private readonly options: ResolvedTaskQueueOptions,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    try {
      await this.engine.ping(this.options.startupTimeout);
    } catch (err) {
      // The app will not start: stop reconnecting, or the failed process would never exit.
      await this.engine.close();
      throw err;
    }
  }

  /** Runs before Nest closes the HTTP server: open event streams end, so the server can close. */
  beforeApplicationShutdown(): void {
    this.engine.backend.closeStreams();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.engine.close();
  }
}

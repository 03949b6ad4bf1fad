/**
 * Runs a worker inside the Nest application: handlers are the registry's provider instances,
 * with their own injected dependencies. Started by bootstrapWorker() (or by the app itself);
 * an app that never starts it only sends.
 */
import { Inject, Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { toTaskQueueError } from '../connection/redis-errors.js';
import { TaskQueueEngine } from '../engine.js';
import { TaskRegistry } from '../registry/task.registry.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import type { Worker } from '../worker/worker.js';
import { resolveWorkerOptions } from './resolve-options.js';
import { TASK_QUEUE_OPTIONS } from './task-queue.constants.js';
import type { ResolvedTaskQueueOptions, WorkerOptions } from './task-queue-options.interface.js';

@Injectable()
export class TaskWorkerHost implements BeforeApplicationShutdown {
  private worker: Worker | undefined;
  private scheduler: Scheduler | undefined;

  constructor(
    private readonly engine: TaskQueueEngine,
    private readonly registry: TaskRegistry,
    @Inject(TASK_QUEUE_OPTIONS) private readonly options: ResolvedTaskQueueOptions,
  ) {}

  get started(): boolean {
    return this.worker !== undefined;
  }

  /** True while the worker fetches without errors. */
  get consuming(): boolean {
    return this.worker?.consuming ?? false;
  }

  /** Starts consuming; overrides take precedence over the module's worker options. */
  async start(overrides: WorkerOptions = {}): Promise<void> {
    if (this.worker) return;
    const settings = resolveWorkerOptions(overrides, this.options.defaultQueue, '', this.options.worker);
    await this.engine.ping(this.options.startupTimeout);
    const worker = this.engine.createWorker(
      this.registry,
      {
        queues: settings.queues,
        concurrency: settings.concurrency,
        queueConcurrency: settings.queueConcurrency,
        leaseMs: settings.leaseMs,
        shutdownGraceMs: settings.shutdownGraceMs,
        maxDeliveries: settings.maxDeliveries,
        resultTtlSec: this.options.resultTtl,
        ...(settings.softTimeLimit !== undefined ? { softTimeLimitMs: settings.softTimeLimit } : {}),
        ...(settings.timeLimit !== undefined ? { timeLimitMs: settings.timeLimit } : {}),
      },
      (name, id) => new Logger(`${name}#${id}`),
    );
    try {
      await worker.start();
    } catch (err) {
      await worker.close().catch(() => undefined);
      throw toTaskQueueError(err, this.engine.connections.where);
    }
    this.worker = worker;
    const schedules = this.registry.schedules();
    if (settings.scheduler && schedules.length > 0) {
      this.scheduler = this.engine.createScheduler(schedules, (task) => this.registry.get(task)?.queue, new Logger('TaskScheduler'));
      await this.scheduler.start();
    }
  }

  /** Stops fetching and drains running tasks (see WorkerOptions.shutdownGraceMs). */
  async stop(): Promise<void> {
    this.scheduler?.stop();
    await this.worker?.close();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.stop();
  }
}

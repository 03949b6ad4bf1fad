/**
 * Finds every @Task() method on the application's providers at bootstrap (Nest's
 * DiscoveryService and MetadataScanner) and fills the registry. A duplicate name or a bad
 * queue name fails startup.
 */
import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { assertQueueName } from '../broker/keys.js';
import { TASK_QUEUE_OPTIONS } from '../module/task-queue.constants.js';
import type { ResolvedTaskQueueOptions } from '../module/task-queue-options.interface.js';
import { TaskRegistry } from '../registry/task.registry.js';
import { TaskMetadataAccessor } from './task-metadata.accessor.js';

@Injectable()
export class TaskExplorer implements OnModuleInit {
  private readonly logger = new Logger('TaskQueue');

  constructor(
    @Inject(TASK_QUEUE_OPTIONS) private readonly options: ResolvedTaskQueueOptions,
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly accessor: TaskMetadataAccessor,
    private readonly registry: TaskRegistry,
  ) {}

  onModuleInit(): void {
    this.discoverTasks();
    // Schedules are checked here too, so that a bad one fails startup and not the first tick.
    this.options.schedules.forEach((entry, i) => {
      const { task, ...schedule } = entry;
      this.registry.addSchedule(task, schedule, `schedules[${i}]`);
    });
  }

  private discoverTasks(): void {
    for (const wrapper of this.discovery.getProviders()) {
      const instance: unknown = wrapper.instance;
      if (!instance || typeof instance !== 'object') continue;
      const prototype = Object.getPrototypeOf(instance) as object | null;
      if (!prototype) continue;
      for (const methodName of this.scanner.getAllMethodNames(prototype)) {
        const meta = this.accessor.read(prototype, methodName);
        if (!meta) continue;
        const className = (instance.constructor as { name: string }).name;
        if (!wrapper.isDependencyTreeStatic()) {
          this.logger.warn(
            `${className}.${methodName} is a @Task() on a request-scoped provider; tasks run outside requests. ` +
              `Skipped: make ${className} a singleton provider.`,
          );
          continue;
        }
        if (meta.options.queue !== undefined) assertQueueName(meta.options.queue);
        this.registry.register({
          name: meta.options.name ?? `${className}.${methodName}`,
          queue: meta.options.queue,
          ignoreResult: meta.options.ignoreResult === true,
          ...pick(meta.options, ['retry', 'softTimeLimit', 'timeLimit', 'rateLimit']),
          instance,
          className,
          methodName,
          parameterCount: meta.parameterCount,
          takesContext: meta.takesContext,
        });
        const name = meta.options.name ?? `${className}.${methodName}`;
        const schedules = meta.options.schedule === undefined ? [] : [meta.options.schedule].flat();
        schedules.forEach((s, i) => this.registry.addSchedule(name, s, `@Task('${name}') schedule[${i}]`));
      }
    }
  }
}

/** The options that are set, so that an absent one stays absent (exactOptionalPropertyTypes-friendly). */
function pick<T extends object, K extends keyof T>(from: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const key of keys) if (from[key] !== undefined) out[key] = from[key];
  return out;
}

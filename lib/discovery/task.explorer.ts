/**
 * Finds every @Task() method on the application's providers at bootstrap (Nest's
 * DiscoveryService and MetadataScanner) and fills the registry. A duplicate name or a bad
 * queue name fails startup.
 */
import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { assertQueueName } from '../broker/keys.js';
import { TaskRegistry } from '../registry/task.registry.js';
import { TaskMetadataAccessor } from './task-metadata.accessor.js';

@Injectable()
export class TaskExplorer implements OnModuleInit {
  private readonly logger = new Logger('TaskQueue');

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly accessor: TaskMetadataAccessor,
    private readonly registry: TaskRegistry,
  ) {}

  onModuleInit(): void {
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
          ...(meta.options.retry ? { retry: meta.options.retry } : {}),
          instance,
          className,
          methodName,
          parameterCount: meta.parameterCount,
          takesContext: meta.takesContext,
        });
      }
    }
  }
}

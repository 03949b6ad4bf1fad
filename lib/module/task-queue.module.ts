/**
 * TaskQueueModule.forRoot(options) / forRootAsync({ imports, inject, useFactory | useClass |
 * useExisting }). Global: TaskClient is injectable anywhere once the module is imported.
 */
import { Logger, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { TaskClient } from '../client/task.client.js';
import { TaskExplorer } from '../discovery/task.explorer.js';
import { TaskMetadataAccessor } from '../discovery/task-metadata.accessor.js';
import { TaskQueueEngine } from '../engine.js';
import { TaskRegistry } from '../registry/task.registry.js';
import { resolveOptions } from './resolve-options.js';
import { TASK_QUEUE_OPTIONS } from './task-queue.constants.js';
import { ConfigurableTaskQueueModule, RAW_TASK_QUEUE_OPTIONS } from './task-queue.module-definition.js';
import type { ResolvedTaskQueueOptions, TaskQueueModuleOptions } from './task-queue-options.interface.js';
import { TaskQueueLifecycle } from './task-queue.lifecycle.js';
import { TaskWorkerHost } from './task-worker.host.js';
import { TaskQueueAdmin } from './task-queue.admin.js';

@Module({
  imports: [DiscoveryModule],
  providers: [
    {
      provide: TASK_QUEUE_OPTIONS,
      useFactory: (raw: TaskQueueModuleOptions) => resolveOptions(raw),
      inject: [RAW_TASK_QUEUE_OPTIONS],
    },
    {
      provide: TaskQueueEngine,
      useFactory: (o: ResolvedTaskQueueOptions) =>
        new TaskQueueEngine({
          connection: o.connection,
          prefix: o.prefix,
          defaultQueue: o.defaultQueue,
          sendTimeoutMs: o.sendTimeout,
          maxPayloadBytes: o.maxPayloadBytes,
          resultTtlSec: o.resultTtl,
          logger: new Logger('TaskQueue'),
        }),
      inject: [TASK_QUEUE_OPTIONS],
    },
    TaskMetadataAccessor,
    TaskRegistry,
    TaskExplorer,
    TaskClient,
    TaskWorkerHost,
    TaskQueueLifecycle,
    TaskQueueAdmin,
  ],
  exports: [TaskClient, TaskRegistry, TaskWorkerHost, TaskQueueAdmin],
})
export class TaskQueueModule extends ConfigurableTaskQueueModule {}

// The public API of nestjs-taskqueue. Nothing outside this file is part of it.
export { TaskQueueModule } from './module/task-queue.module.js';
export type { TaskQueueModuleOptions, WorkerOptions } from './module/task-queue-options.interface.js';
export { TaskWorkerHost } from './module/task-worker.host.js';
export { TaskQueueAdmin } from './module/task-queue.admin.js';
export type { DeadLetter, DeadLetterQueue, ListOptions } from './broker/dead-letters.js';
export { Task, type TaskOptions } from './decorators/task.decorator.js';
export { TaskRegistry, type RegisteredTask } from './registry/task.registry.js';
export { TaskClient, type BulkTask, type HandleOptions } from './client/task.client.js';
export { TaskHandle, type ResultOptions } from './client/task-handle.js';
export type { TaskArgs, TaskMethodName, TaskResult } from './client/call-types.js';
export type { SendOptions } from './producer/send-options.js';
export type { TaskEvent } from './backend/result-backend.js';
export type { TaskSnapshot } from './backend/task-snapshot.js';
export { TaskContext, type RetryRequestOptions, type TaskLogger } from './worker/task-context.js';
export type { ErrorMatcher, RetryOptions } from './worker/retry-policy.js';
export { bootstrapWorker, type BootstrapWorkerOptions, type RunningWorker } from './bootstrap/bootstrap-worker.js';
export { TaskStates, isFinalState, type TaskState } from './common/task-state.js';
export * from './common/errors.js';

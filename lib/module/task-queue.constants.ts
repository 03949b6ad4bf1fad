/** Injection tokens and metadata keys of the Nest layer. */
export const TASK_QUEUE_OPTIONS = Symbol('TASK_QUEUE_OPTIONS');
export const TASK_METADATA = 'nestjs-taskqueue:task';

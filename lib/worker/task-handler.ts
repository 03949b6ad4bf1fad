/** How the worker finds the code of a task: the Nest layer fills this from the @Task registry. */
import type { TaskContext } from './task-context.js';

export interface TaskHandler {
  readonly name: string;
  invoke(args: unknown[], ctx: TaskContext): unknown;
}

export interface TaskHandlerLookup {
  get(name: string): TaskHandler | undefined;
}

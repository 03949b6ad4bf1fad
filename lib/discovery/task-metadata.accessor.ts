/** The one place that reads @Task metadata and the emitted parameter types of a task method. */
import { Injectable } from '@nestjs/common';
import type { TaskOptions } from '../decorators/task.decorator.js';
import { TASK_METADATA } from '../module/task-queue.constants.js';
import { TaskContext } from '../worker/task-context.js';

export interface TaskMethodMetadata {
  options: TaskOptions;
  /** Declared parameter count, when the compiler emitted design:paramtypes. */
  parameterCount: number | undefined;
  /** The last parameter is a TaskContext: the worker passes one there. */
  takesContext: boolean;
}

@Injectable()
export class TaskMetadataAccessor {
  read(prototype: object, methodName: string): TaskMethodMetadata | undefined {
    const method = (prototype as Record<string, unknown>)[methodName];
    if (typeof method !== 'function') return undefined;
    const options = Reflect.getMetadata(TASK_METADATA, method) as TaskOptions | undefined;
    if (!options) return undefined;
    const types = Reflect.getMetadata('design:paramtypes', prototype, methodName) as unknown[] | undefined;
    return {
      options,
      parameterCount: types?.length,
      takesContext: types !== undefined && types.length > 0 && types[types.length - 1] === TaskContext,
    };
  }

  /** The task name and queue of a class's method, read straight from the class (for TaskClient.call). */
  static ofClassMethod(cls: { name: string; prototype: object }, methodName: string): { name: string; queue?: string } | undefined {
    const method = (cls.prototype as Record<string, unknown>)[methodName];
    if (typeof method !== 'function') return undefined;
    const options = Reflect.getMetadata(TASK_METADATA, method) as TaskOptions | undefined;
    if (!options) return undefined;
    return { name: options.name ?? `${cls.name}.${methodName}`, ...(options.queue ? { queue: options.queue } : {}) };
  }
}

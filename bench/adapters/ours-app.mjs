// The Nest application our bench workers and producers boot, as a user would write it:
// a provider with @Task() no-op handlers, and TaskQueueModule.forRoot(). Plain JavaScript, so
// the decorators are applied by hand exactly as tsc would emit them (see test/fixtures/cjs-app).
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';

export const QUEUE = 'bench';
export const TASK_KEEP = 'BenchTasks.noop';
export const TASK_DROP = 'BenchTasks.noopDropResult';

/**
 * @param tq the nestjs-taskqueue module (the build under test)
 * @param {{ url: string, onTask: (payload: object) => void, concurrency?: number }} options
 */
export function makeAppModule(tq, { url, onTask, concurrency = 10 }) {
  class BenchTasks {
    noop(payload) {
      onTask(payload);
    }

    noopDropResult(payload) {
      onTask(payload);
    }
  }
  decorateMethod(BenchTasks, 'noop', [Object], tq.Task());
  decorateMethod(BenchTasks, 'noopDropResult', [Object], tq.Task({ ignoreResult: true }));
  Injectable()(BenchTasks);

  class BenchAppModule {}
  Module({
    imports: [
      tq.TaskQueueModule.forRoot({
        connection: url,
        defaultQueue: QUEUE,
        worker: { concurrency, queues: [QUEUE] },
      }),
    ],
    providers: [BenchTasks],
  })(BenchAppModule);
  return BenchAppModule;
}

function decorateMethod(cls, name, paramTypes, decorator) {
  Reflect.defineMetadata('design:paramtypes', paramTypes, cls.prototype, name);
  const descriptor = Object.getOwnPropertyDescriptor(cls.prototype, name);
  const result = decorator(cls.prototype, name, descriptor);
  if (result) Object.defineProperty(cls.prototype, name, result);
}

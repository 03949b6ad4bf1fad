import { Injectable } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
// TaskContext is imported as a value: the worker recognises the context parameter by its
// emitted design:paramtypes, so `import type` would hide it.
import { Task, TaskContext } from 'nestjs-taskqueue';
import { MessageService } from '../message.service.js';

@Injectable()
export class SampleTasks {
  constructor(private readonly messages: MessageService) {}

  /** Sleeps `seconds` seconds, reporting progress after each one. */
  @Task('long_running_task')
  async longRunningTask(seconds: number, ctx: TaskContext): Promise<string> {
    for (let i = 0; i < seconds; i++) {
      // Rejects as soon as the task is revoked or the worker gives up on it at shutdown.
      await sleep(1000, undefined, { signal: ctx.signal });
      await ctx.progress({ current: i + 1, total: seconds });
    }
    return this.messages.completed(seconds);
  }

  @Task('add')
  add(x: number, y: number): number {
    return x + y;
  }
}

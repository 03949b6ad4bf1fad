// Providers shared by the module tests: ordinary Nest providers with @Task() methods.
import { Injectable } from '@nestjs/common';
import { Task, TaskContext } from '../../../lib/index.js';

@Injectable()
export class Multiplier {
  readonly factor = 10;
}

@Injectable()
export class MathTasks {
  constructor(private readonly multiplier: Multiplier) {}

  @Task()
  add(x: number, y: number): number {
    return x + y;
  }

  @Task('math.scale')
  scale(x: number): number {
    return x * this.multiplier.factor;
  }

  @Task({ name: 'math.steps', queue: 'slow' })
  async steps(count: number, ctx: TaskContext): Promise<string> {
    for (let i = 1; i <= count; i++) {
      await new Promise((r) => setTimeout(r, 20));
      await ctx.progress({ current: i, total: count });
    }
    return `${ctx.name} ${ctx.id} attempt ${ctx.attempt} done`;
  }

  @Task('math.fail')
  fail(message: string): never {
    const err = new RangeError(message) as RangeError & { code: string };
    err.code = 'E_RANGE';
    throw err;
  }

  @Task('math.throwString')
  throwString(): never {
    throw 'plain string'; // eslint-disable-line no-throw-literal
  }

  @Task('math.badResult')
  badResult(): unknown {
    return { at: 1n };
  }

  @Task('math.optionalCtx')
  optionalArgs(a?: number, ctx?: TaskContext): string {
    return `${a ?? 'none'} ${ctx instanceof TaskContext}`;
  }

  @Task({ name: 'math.quiet', ignoreResult: true })
  quiet(x: number): number {
    return x;
  }

  @Task('math.sleep')
  async sleep(ms: number, ctx: TaskContext): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, ms);
      ctx.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(ctx.signal.reason);
      });
    });
    return 'slept';
  }
}

/**
 * Compile-time test of TaskClient.call(): compiled by `npm run typecheck` (and by
 * test/unit/types/call-types.spec.ts), never run. Every `// @ts-expect-error` marks a call that
 * must not compile; the spec removes them one by one to prove each line really is an error.
 * Keep every checked expression on the single line after its directive.
 */
import { Injectable } from '@nestjs/common';
import type { TaskClient } from '../../lib/client/task.client.js';
import type { TaskHandle } from '../../lib/client/task-handle.js';
import { Task } from '../../lib/decorators/task.decorator.js';
import type { TaskContext } from '../../lib/worker/task-context.js';

/** true when X and Y are the same type (not merely assignable either way). */
type Equal<X, Y> = (<T>() => T extends X ? 1 : 2) extends <T>() => T extends Y ? 1 : 2 ? true : false;
type Expect<T extends true> = T;

@Injectable()
class ReportTasks {
  readonly label = 'reports';

  @Task()
  add(x: number, y: number): number {
    return x + y;
  }

  @Task('reports.build')
  async build(seconds: number, ctx: TaskContext): Promise<string> {
    await ctx.progress({ seconds });
    return `done after ${seconds}s`;
  }

  @Task()
  maybeCtx(seconds: number, ctx?: TaskContext): string {
    return `${seconds} ${ctx?.id ?? 'no context'}`;
  }

  @Task()
  ping(): boolean {
    return true;
  }

  @Task()
  onlyCtx(ctx: TaskContext): string {
    return ctx.id;
  }

  @Task()
  greet(name: string, greeting?: string): string {
    return `${greeting ?? 'hello'} ${name}`;
  }
}

/** Not decorated: call() typing does not depend on the decorator (it is checked at runtime). */
class PlainTasks {
  async sum(values: number[]): Promise<{ total: number }> {
    return { total: values.reduce((a, b) => a + b, 0) };
  }
}

declare const client: TaskClient;
declare const ctx: TaskContext;

export async function checks(): Promise<void> {
  // Result types: the method's awaited return type.
  const add = client.call(ReportTasks, 'add', [5, 3]);
  type _add = Expect<Equal<typeof add, Promise<TaskHandle<number>>>>;
  // @ts-expect-error the helper must tell number from string, or the checks above prove nothing
  type _addNotString = Expect<Equal<typeof add, Promise<TaskHandle<string>>>>;

  const build = await client.call(ReportTasks, 'build', [10], { countdown: 2_000 });
  type _build = Expect<Equal<typeof build, TaskHandle<string>>>;
  const built = await build.result({ timeout: 5_000 });
  type _built = Expect<Equal<typeof built, string>>;

  const maybe = await client.call(ReportTasks, 'maybeCtx', [1]);
  type _maybe = Expect<Equal<typeof maybe, TaskHandle<string>>>;

  const ping = await client.call(ReportTasks, 'ping', []);
  type _ping = Expect<Equal<typeof ping, TaskHandle<boolean>>>;

  const only = await client.call(ReportTasks, 'onlyCtx', []);
  type _only = Expect<Equal<typeof only, TaskHandle<string>>>;

  const sum = await client.call(PlainTasks, 'sum', [[1, 2, 3]]);
  type _sum = Expect<Equal<typeof sum, TaskHandle<{ total: number }>>>;

  // Optional trailing parameters that are not a context stay optional.
  await client.call(ReportTasks, 'greet', ['ada']);
  await client.call(ReportTasks, 'greet', ['ada', 'hi']);

  // Wrong argument type.
  // @ts-expect-error '3' is not a number
  await client.call(ReportTasks, 'add', [5, '3']);
  // @ts-expect-error build takes a number of seconds
  await client.call(ReportTasks, 'build', ['ten']);
  // @ts-expect-error args is a tuple, not a bare value
  await client.call(ReportTasks, 'build', 10);

  // Too few arguments.
  // @ts-expect-error add needs two numbers
  await client.call(ReportTasks, 'add', [5]);
  // @ts-expect-error build needs its seconds
  await client.call(ReportTasks, 'build', []);

  // Too many arguments.
  // @ts-expect-error add takes two numbers
  await client.call(ReportTasks, 'add', [5, 3, 1]);
  // @ts-expect-error greet takes at most two strings
  await client.call(ReportTasks, 'greet', ['ada', 'hi', 'there']);
  // @ts-expect-error ping takes nothing
  await client.call(ReportTasks, 'ping', [1]);

  // A TaskContext is supplied by the worker, never by the caller.
  // @ts-expect-error ctx is not the caller's to pass
  await client.call(ReportTasks, 'build', [10, ctx]);
  // @ts-expect-error not even when the method declares it optional
  await client.call(ReportTasks, 'maybeCtx', [1, ctx]);
  // @ts-expect-error nor when it is the only parameter
  await client.call(ReportTasks, 'onlyCtx', [ctx]);

  // Names that are not methods of the class.
  // @ts-expect-error no such method
  await client.call(ReportTasks, 'nope', []);
  // @ts-expect-error a property is not a method
  await client.call(ReportTasks, 'label', []);
  // @ts-expect-error sum is PlainTasks', not ReportTasks'
  await client.call(ReportTasks, 'sum', [[1]]);

  // The handle's result type is not any: it cannot be used as another type.
  // @ts-expect-error a number is not a string
  const wrong: TaskHandle<string> = await client.call(ReportTasks, 'add', [1, 2]);
  void wrong;
}

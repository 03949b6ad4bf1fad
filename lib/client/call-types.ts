/**
 * Compile-time types of TaskClient.call(): the argument list a task method takes (without its
 * trailing TaskContext, which the worker supplies) and the value its result resolves to.
 */
import type { TaskContext } from '../worker/task-context.js';

type Method = (...args: never[]) => unknown;

/** Names of T's methods (the ones call() may name). */
export type TaskMethodName<T> = {
  [K in keyof T]-?: T[K] extends Method ? K : never;
}[keyof T] &
  string;

type IsAny<T> = 0 extends 1 & T ? true : false;

type DropContext<A extends readonly unknown[]> = A extends readonly []
  ? []
  : A extends readonly [...infer Head, infer Last]
    ? IsAny<Last> extends true
      ? A
      : [Last] extends [TaskContext]
        ? Head
        : A
    : A extends readonly [...infer Head, (TaskContext | undefined)?]
      ? Head
      : A;

/** The arguments a caller passes: the method's parameters without a trailing TaskContext. */
export type TaskArgs<F> = F extends (...args: infer A) => unknown ? DropContext<A> : never;

/** What the task's result resolves to: the method's awaited return type. */
export type TaskResult<F> = F extends (...args: never[]) => infer R ? Awaited<R> : never;

/**
 * Arguments and results travel as JSON. JSON.stringify silently turns some values into
 * something else (a function into nothing, NaN into null, a Map into {}); we refuse them
 * instead, before anything reaches Redis, so a caller never gets back other data than it sent.
 */
import { NotSerializableError } from './errors.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export function assertJsonSerializable(value: unknown, path: string): void {
  const problem = walk(value, undefined);
  if (problem) throw new NotSerializableError(path + problem.where.reverse().join(''), problem.reason);
}

/** Serialises after checking; the error names the path of the first bad value. */
export function toJson(value: unknown, path: string): string {
  assertJsonSerializable(value, path);
  return JSON.stringify(value);
}

/** What is wrong, and where: path steps innermost first, added as the walk unwinds. */
interface Problem {
  reason: string;
  where: string[];
}

const problem = (reason: string): Problem => ({ reason, where: [] });

// Runs for every value of every message sent: paths are built only when something is wrong.
// The set of objects on the current path is made at the first object: most results are a
// primitive or nothing.
function walk(value: unknown, seen: Set<object> | undefined): Problem | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : problem(`is ${value}, which JSON cannot carry`);
    case 'bigint':
      return problem('is a BigInt; send it as a string');
    case 'function':
      return problem('is a function');
    case 'symbol':
      return problem('is a symbol');
    case 'undefined':
      return problem('is undefined; use null');
  }
  if (value === null) return undefined;
  const obj = value as object;
  if (obj instanceof Date) {
    // A valid one travels as its ISO string.
    return Number.isNaN(obj.getTime()) ? problem('is an invalid Date') : undefined;
  }
  seen ??= new Set<object>();
  if (seen.has(obj)) return problem('refers back to itself (a cycle)');
  seen.add(obj);
  let found: Problem | undefined;
  if (Array.isArray(obj)) {
    // An index loop, not forEach: a hole in a sparse array would arrive as null.
    for (let i = 0; i < obj.length && !found; i++) {
      found = walk(obj[i], seen);
      found?.where.push(`[${i}]`);
    }
  } else if (ArrayBuffer.isView(obj) || obj instanceof ArrayBuffer) {
    found = problem('is binary data (a Buffer or typed array); send it as a base64 string');
  } else {
    const proto: unknown = Object.getPrototypeOf(obj);
    if (proto !== Object.prototype && proto !== null && typeof (obj as { toJSON?: unknown }).toJSON !== 'function') {
      const kind = (obj.constructor as { name?: string } | undefined)?.name ?? 'object';
      found = problem(`is a ${kind}, which JSON would not carry faithfully`);
    } else {
      const record = obj as Record<string, unknown>;
      const keys = Object.keys(record);
      for (let i = 0; i < keys.length && !found; i++) {
        const key = keys[i] as string;
        const item = record[key];
        // An undefined property is dropped by JSON, which is what an optional field means.
        if (item !== undefined) {
          found = walk(item, seen);
          found?.where.push(`.${key}`);
        }
      }
    }
  }
  seen.delete(obj);
  return found;
}

/**
 * Arguments and results travel as JSON. JSON.stringify silently turns some values into
 * something else (a function into nothing, NaN into null, a Map into {}); we refuse them
 * instead, before anything reaches Redis, so a caller never gets back other data than it sent.
 */
import { NotSerializableError } from './errors.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export function assertJsonSerializable(value: unknown, path: string): void {
  let problem = walk(value, undefined, 0);
  // Deeper than data usually goes, maybe a cycle: walked again, this time keeping the objects
  // of the current path to tell one.
  if (problem === TOO_DEEP) problem = walk(value, new Set<object>(), 0);
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

/**
 * Nesting beyond which the first walk gives up and the second looks for a cycle. The first keeps
 * no set of the objects on its path: that set cost a send more memory than its arguments
 * (measured: ~400 bytes per send of one small object), and almost no data holds a cycle.
 */
const CYCLE_CHECK_DEPTH = 100;
const TOO_DEEP: Problem = { reason: 'nested too deep', where: [] };

// Runs for every value of every message sent: paths are built only when something is wrong.
// `seen`: the objects on the current path, in the second walk only (see assertJsonSerializable).
function walk(value: unknown, seen: Set<object> | undefined, depth: number): Problem | undefined {
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
  if (seen === undefined) {
    if (depth >= CYCLE_CHECK_DEPTH) return TOO_DEEP;
  } else {
    if (seen.has(obj)) return problem('refers back to itself (a cycle)');
    seen.add(obj);
  }
  let found: Problem | undefined;
  if (Array.isArray(obj)) {
    // An index loop, not forEach: a hole in a sparse array would arrive as null.
    for (let i = 0; i < obj.length && !found; i++) {
      found = walk(obj[i], seen, depth + 1);
      if (found !== TOO_DEEP) found?.where.push(`[${i}]`);
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
      // for...in, not Object.keys: no array of keys made for every object walked.
      for (const key in record) {
        if (!Object.hasOwn(record, key)) continue;
        const item = record[key];
        // An undefined property is dropped by JSON, which is what an optional field means.
        if (item !== undefined) {
          found = walk(item, seen, depth + 1);
          if (found !== TOO_DEEP) found?.where.push(`.${key}`);
          if (found) break;
        }
      }
    }
  }
  seen?.delete(obj);
  return found;
}

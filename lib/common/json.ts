/**
 * Arguments and results travel as JSON. JSON.stringify silently turns some values into
 * something else (a function into nothing, NaN into null, a Map into {}); we refuse them
 * instead, before anything reaches Redis, so a caller never gets back other data than it sent.
 */
import { NotSerializableError } from './errors.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export function assertJsonSerializable(value: unknown, path: string): void {
  walk(value, path, new Set<object>());
}

/** Serialises after checking; the error names the path of the first bad value. */
export function toJson(value: unknown, path: string): string {
  assertJsonSerializable(value, path);
  return JSON.stringify(value);
}

function walk(value: unknown, path: string, seen: Set<object>): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new NotSerializableError(path, `is ${value}, which JSON cannot carry`);
      return;
    case 'bigint':
      throw new NotSerializableError(path, 'is a BigInt; send it as a string');
    case 'function':
      throw new NotSerializableError(path, 'is a function');
    case 'symbol':
      throw new NotSerializableError(path, 'is a symbol');
    case 'undefined':
      throw new NotSerializableError(path, 'is undefined; use null');
  }
  if (value === null) return;
  const obj = value as object;
  if (obj instanceof Date) {
    if (Number.isNaN(obj.getTime())) throw new NotSerializableError(path, 'is an invalid Date');
    return; // travels as its ISO string
  }
  if (seen.has(obj)) throw new NotSerializableError(path, 'refers back to itself (a cycle)');
  seen.add(obj);
  if (Array.isArray(obj)) {
    // An index loop, not forEach: a hole in a sparse array would arrive as null.
    for (let i = 0; i < obj.length; i++) walk(obj[i], `${path}[${i}]`, seen);
  } else if (ArrayBuffer.isView(obj) || obj instanceof ArrayBuffer) {
    throw new NotSerializableError(path, 'is binary data (a Buffer or typed array); send it as a base64 string');
  } else {
    const proto: unknown = Object.getPrototypeOf(obj);
    if (proto !== Object.prototype && proto !== null && typeof (obj as { toJSON?: unknown }).toJSON !== 'function') {
      const kind = (obj.constructor as { name?: string } | undefined)?.name ?? 'object';
      throw new NotSerializableError(path, `is a ${kind}, which JSON would not carry faithfully`);
    }
    for (const [key, item] of Object.entries(obj)) {
      // An undefined property is dropped by JSON, which is what an optional field means.
      if (item !== undefined) walk(item, `${path}.${key}`, seen);
    }
  }
  seen.delete(obj);
}

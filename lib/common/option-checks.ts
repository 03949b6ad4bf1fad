/** Checks of numeric options, shared by the module options, @Task() options and retry policies. */
import { InvalidOptionsError } from './errors.js';

/** An integer >= min, or the fallback when the option is left out. */
export function integer(value: unknown, option: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    const got = typeof value === 'number' ? String(value) : JSON.stringify(value);
    throw new InvalidOptionsError(option, `must be an integer >= ${min}, got ${got}`);
  }
  return value;
}

/** { [key]: a positive integer } when the option is given, {} when it is left out. */
export function optionalInteger<K extends string>(value: unknown, option: string, key: K): Partial<Record<K, number>> {
  if (value === undefined) return {};
  return { [key]: integer(value, option, 0, 1) } as Partial<Record<K, number>>;
}

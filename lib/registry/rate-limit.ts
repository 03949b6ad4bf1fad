/** Parses '100/s', '10/m', '5/h' into the minimum spacing of starts, in milliseconds. */
import { InvalidOptionsError } from '../common/errors.js';

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000 };

export function parseRateLimit(value: string, option: string): { intervalMs: number } {
  const match = typeof value === 'string' ? /^(\d+(?:\.\d+)?)\/([smh])$/.exec(value.trim()) : null;
  const count = match ? Number(match[1]) : 0;
  if (!match || !(count > 0)) {
    throw new InvalidOptionsError(option, `must look like '100/s', '10/m' or '5/h', got ${JSON.stringify(value)}`);
  }
  return { intervalMs: (UNIT_MS[match[2] as string] as number) / count };
}

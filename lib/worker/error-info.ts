/** Turns whatever a handler threw into the JSON error record kept with a failed task. */
import type { RemoteErrorInfo } from '../common/errors.js';

export function toErrorInfo(thrown: unknown): RemoteErrorInfo {
  if (thrown instanceof Error) {
    const info: RemoteErrorInfo = { name: thrown.name, message: thrown.message };
    if (thrown.stack) info.stack = thrown.stack;
    const code = (thrown as { code?: unknown }).code;
    if (typeof code === 'string') info.code = code;
    return info;
  }
  // Handlers may throw anything; a string or object still has to become a readable error.
  let message: string;
  try {
    message = typeof thrown === 'string' ? thrown : JSON.stringify(thrown) ?? String(thrown);
  } catch {
    message = String(thrown);
  }
  return { name: 'NonErrorThrown', message };
}

/**
 * What leaves the library when a Redis call fails: a typed error whose message says what
 * happened, and nothing else. ioredis attaches the failed command (for a refused AUTH: the
 * user name and password) to its errors and rejects every queued command with that same
 * error, so its errors are never passed on as they are.
 */
import { RedisCommandError, RedisUnavailableError, TaskQueueError } from '../common/errors.js';

export function toTaskQueueError(err: unknown, where: string): TaskQueueError {
  if (err instanceof TaskQueueError) return err;
  const message = err instanceof Error ? err.message : String(err);
  // A ReplyError is Redis' answer; anything else (refused, closed, retries exhausted) means unreachable.
  if (err instanceof Error && err.name === 'ReplyError' && !/^(WRONGPASS|NOAUTH|NOPERM)/.test(message)) {
    return new RedisCommandError(where, message);
  }
  return new RedisUnavailableError(where, message);
}

/** Runs a Redis call and rethrows its failure as toTaskQueueError would. */
export async function guarded<T>(where: string, call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (err) {
    throw toTaskQueueError(err, where);
  }
}

/** Backstop for errors ioredis emits: forget the arguments of the command that carried credentials. */
export function forgetCredentials(err: unknown): void {
  const command = (err as { command?: { name?: string; args?: unknown[] } } | null)?.command;
  if (command && /^(auth|hello)$/i.test(command.name ?? '')) command.args = ['<redacted>'];
}

/**
 * Every error this library throws on purpose: a typed class with a stable `code`
 * and a message that tells the reader what to do next.
 */
export type TaskQueueErrorCode =
  | 'INVALID_OPTIONS'
  | 'INVALID_QUEUE_NAME'
  | 'INVALID_ARGUMENT'
  | 'DUPLICATE_TASK'
  | 'UNKNOWN_TASK'
  | 'NOT_A_TASK'
  | 'NOT_SERIALIZABLE'
  | 'PAYLOAD_TOO_LARGE'
  | 'TASK_FAILED'
  | 'TASK_TIMEOUT'
  | 'TASK_REVOKED'
  | 'SOFT_TIME_LIMIT'
  | 'TIME_LIMIT'
  | 'TASK_NOT_FOUND'
  | 'REDIS_UNAVAILABLE'
  | 'REDIS_ERROR'
  | 'MALFORMED_MESSAGE'
  | 'CLOSED';

export class TaskQueueError extends Error {
  constructor(
    readonly code: TaskQueueErrorCode,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class InvalidOptionsError extends TaskQueueError {
  constructor(
    readonly option: string,
    problem: string,
  ) {
    super('INVALID_OPTIONS', `TaskQueueModule option "${option}" ${problem}`);
  }
}

export class InvalidArgumentError extends TaskQueueError {
  constructor(
    readonly argument: string,
    problem: string,
  ) {
    super('INVALID_ARGUMENT', `${argument} ${problem}`);
  }
}

export class InvalidQueueNameError extends TaskQueueError {
  constructor(readonly queue: string) {
    super(
      'INVALID_QUEUE_NAME',
      `Queue name ${JSON.stringify(queue)} is not allowed: use 1-64 characters from A-Z a-z 0-9 _ . - ` +
        `(braces and colons would break the Redis key layout).`,
    );
  }
}

export class DuplicateTaskError extends TaskQueueError {
  constructor(
    readonly taskName: string,
    first: string,
    second: string,
  ) {
    super(
      'DUPLICATE_TASK',
      `Task name "${taskName}" is declared twice: by ${first} and by ${second}. ` +
        `Give one of them another name with @Task('another.name').`,
    );
  }
}

export class UnknownTaskError extends TaskQueueError {
  constructor(readonly taskName: string) {
    super(
      'UNKNOWN_TASK',
      `No handler is registered for task "${taskName}". Declare it with @Task() on a method of a provider ` +
        `that is part of the application module the worker was started with.`,
    );
  }
}

export class NotATaskError extends TaskQueueError {
  constructor(className: string, method: string) {
    super(
      'NOT_A_TASK',
      `${className}.${method} is not a task: decorate the method with @Task() before calling it through TaskClient.call().`,
    );
  }
}

export class NotSerializableError extends TaskQueueError {
  constructor(
    readonly path: string,
    problem: string,
  ) {
    super(
      'NOT_SERIALIZABLE',
      `${path} ${problem}. Task arguments and results travel as JSON: pass plain objects, arrays, strings, ` +
        `finite numbers, booleans or null.`,
    );
  }
}

export class PayloadTooLargeError extends TaskQueueError {
  constructor(
    readonly taskName: string,
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(
      'PAYLOAD_TOO_LARGE',
      `The message of task "${taskName}" is ${bytes} bytes, over the ${limit}-byte limit (maxPayloadBytes). ` +
        `Store large data elsewhere (a database, object storage) and pass its key, or raise maxPayloadBytes.`,
    );
  }
}

/** The remote error of a task that ended in FAILURE, as the worker recorded it. */
export interface RemoteErrorInfo {
  name: string;
  message: string;
  stack?: string;
  code?: string;
  /** On a final FAILURE: how many runs the task had (first run, retries and redeliveries). */
  attempts?: number;
  /** On a final FAILURE: how many of those were retries. */
  retries?: number;
}

export class TaskFailedError extends TaskQueueError {
  readonly remoteName: string;
  readonly remoteMessage: string;
  readonly remoteStack: string | undefined;

  constructor(
    readonly taskId: string,
    readonly remote: RemoteErrorInfo,
  ) {
    super('TASK_FAILED', `Task ${taskId} failed with ${remote.name}: ${remote.message}`);
    this.remoteName = remote.name;
    this.remoteMessage = remote.message;
    this.remoteStack = remote.stack;
  }
}

export class TaskTimeoutError extends TaskQueueError {
  constructor(
    readonly taskId: string,
    readonly timeoutMs: number,
    readonly lastState: string,
  ) {
    super(
      'TASK_TIMEOUT',
      `Task ${taskId} did not finish within ${timeoutMs} ms (last state: ${lastState}). ` +
        `Is a worker running for its queue? Wait longer, or read the handle's state later.`,
    );
  }
}

export class TaskNotFoundError extends TaskQueueError {
  constructor(readonly taskId: string) {
    super(
      'TASK_NOT_FOUND',
      `No task with id ${taskId} is known in the queues this client knows. ` +
        `Pass { queue } to TaskClient.handle() if it was sent to another queue, or its result may have expired (resultTtl).`,
    );
  }
}

export class RedisUnavailableError extends TaskQueueError {
  constructor(where: string, cause: string) {
    super(
      'REDIS_UNAVAILABLE',
      `Redis at ${where} cannot be used: ${cause}. Check that Redis is running, that the "connection" option ` +
        `points to it, and its credentials and TLS settings.`,
    );
  }
}

/** Redis answered a command with an error (other than being unreachable). */
export class RedisCommandError extends TaskQueueError {
  constructor(where: string, cause: string) {
    super('REDIS_ERROR', `Redis at ${where} answered with an error: ${cause}`);
  }
}

export class MalformedMessageError extends TaskQueueError {
  constructor(problem: string) {
    super('MALFORMED_MESSAGE', `Task message is malformed: ${problem}`);
  }
}

export class ClosedError extends TaskQueueError {
  constructor(what: string) {
    super('CLOSED', `${what} is closed: it was shut down with the application. Create a new one to go on.`);
  }
}

export class TaskRevokedError extends TaskQueueError {
  constructor(
    readonly taskId: string,
    readonly reason: string,
  ) {
    super('TASK_REVOKED', `Task ${taskId} was revoked (${reason}) and will not produce a result.`);
  }
}

/** The reason ctx.signal aborts with when a task passes its softTimeLimit: clean up and return or throw. */
export class SoftTimeLimitExceeded extends TaskQueueError {
  constructor(readonly limitMs: number) {
    super('SOFT_TIME_LIMIT', `The task ran past its soft time limit of ${limitMs} ms: finish up and stop.`);
  }
}

/** The error a task fails with when it passes its (hard) timeLimit. */
export class TimeLimitExceeded extends TaskQueueError {
  constructor(readonly limitMs: number) {
    super(
      'TIME_LIMIT',
      `The task ran past its time limit of ${limitMs} ms and was ended. Raise timeLimit, or make the task ` +
        `watch ctx.signal (softTimeLimit) so it can stop in time.`,
    );
  }
}

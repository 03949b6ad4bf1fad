import { describe, expect, it } from '@jest/globals';
import * as errors from '../../../lib/common/errors.js';
import {
  ClosedError,
  DuplicateTaskError,
  InvalidArgumentError,
  InvalidOptionsError,
  InvalidQueueNameError,
  MalformedMessageError,
  NotATaskError,
  NotSerializableError,
  PayloadTooLargeError,
  RedisCommandError,
  RedisUnavailableError,
  SoftTimeLimitExceeded,
  TimeLimitExceeded,
  TaskFailedError,
  TaskNotFoundError,
  TaskQueueError,
  TaskRevokedError,
  TaskTimeoutError,
  UnknownTaskError,
} from '../../../lib/common/errors.js';

const cases: [string, TaskQueueError, string][] = [
  ['InvalidOptionsError', new InvalidOptionsError('prefix', 'is bad'), 'INVALID_OPTIONS'],
  ['InvalidArgumentError', new InvalidArgumentError('countdown', 'must be >= 0'), 'INVALID_ARGUMENT'],
  ['InvalidQueueNameError', new InvalidQueueNameError('a{b}'), 'INVALID_QUEUE_NAME'],
  ['DuplicateTaskError', new DuplicateTaskError('x', 'A.x', 'B.x'), 'DUPLICATE_TASK'],
  ['UnknownTaskError', new UnknownTaskError('nope'), 'UNKNOWN_TASK'],
  ['NotATaskError', new NotATaskError('Reports', 'helper'), 'NOT_A_TASK'],
  ['NotSerializableError', new NotSerializableError('args[0]', 'is a function'), 'NOT_SERIALIZABLE'],
  ['TaskFailedError', new TaskFailedError('id1', { name: 'TypeError', message: 'bad' }), 'TASK_FAILED'],
  ['TaskTimeoutError', new TaskTimeoutError('id1', 500, 'STARTED'), 'TASK_TIMEOUT'],
  ['TaskNotFoundError', new TaskNotFoundError('id1'), 'TASK_NOT_FOUND'],
  ['RedisUnavailableError', new RedisUnavailableError('redis://h:6379/0', 'ECONNREFUSED'), 'REDIS_UNAVAILABLE'],
  ['MalformedMessageError', new MalformedMessageError('not JSON'), 'MALFORMED_MESSAGE'],
  ['ClosedError', new ClosedError('TaskClient'), 'CLOSED'],
  ['TaskRevokedError', new TaskRevokedError('id1', 'revoked by user'), 'TASK_REVOKED'],
  ['PayloadTooLargeError', new PayloadTooLargeError('echo', 2_000, 1_000), 'PAYLOAD_TOO_LARGE'],
  ['SoftTimeLimitExceeded', new SoftTimeLimitExceeded(1_000), 'SOFT_TIME_LIMIT'],
  ['RedisCommandError', new RedisCommandError('redis://h:6379/0', 'ERR unknown command'), 'REDIS_ERROR'],
  ['TimeLimitExceeded', new TimeLimitExceeded(2_000), 'TIME_LIMIT'],
];

describe('error classes', () => {
  it.each(cases)('%s has its class name, its code and a message', (name, err, code) => {
    expect(err).toBeInstanceOf(Error);
    expect(err).toBeInstanceOf(TaskQueueError);
    expect(err.name).toBe(name);
    expect(err.constructor.name).toBe(name);
    expect(err.code).toBe(code);
    expect(err.message.length).toBeGreaterThan(10);
    expect(String(err)).toBe(`${name}: ${err.message}`);
    expect(err.stack).toContain(name);
  });

  it('covers every error class the module exports', () => {
    const exported = Object.entries(errors)
      .filter(([, v]) => typeof v === 'function' && v.prototype instanceof TaskQueueError)
      .map(([k]) => k)
      .sort();
    expect(exported).toEqual(cases.map(([name]) => name).sort());
  });

  it('codes are distinct', () => {
    const codes = cases.map(([, err]) => err.code);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it('keep the details they were given', () => {
    expect(new InvalidOptionsError('worker.concurrency', 'is bad')).toMatchObject({
      option: 'worker.concurrency',
      message: 'TaskQueueModule option "worker.concurrency" is bad',
    });
    const remote = { name: 'RangeError', message: 'too big', stack: 'RangeError: too big\n  at x' };
    const failed = new TaskFailedError('t1', remote);
    expect(failed).toMatchObject({ taskId: 't1', remoteName: 'RangeError', remoteMessage: 'too big' });
    expect(failed.remoteStack).toContain('at x');
    expect(failed.message).toBe('Task t1 failed with RangeError: too big');
    expect(new TaskTimeoutError('t2', 1500, 'PENDING').message).toContain('within 1500 ms (last state: PENDING)');
    expect(new DuplicateTaskError('n', 'A.m', 'B.m').message).toContain('by A.m and by B.m');
    expect(new InvalidQueueNameError('a:b').message).toContain('"a:b"');
  });
});

import { describe, expect, it } from '@jest/globals';
import { parseEventMessage } from '../../../lib/backend/result-backend.js';
import { TaskStates } from '../../../lib/common/task-state.js';

describe('parseEventMessage', () => {
  it.each(TaskStates.map((s) => [s]))('reads a bare %s message', (state) => {
    expect(parseEventMessage('t1', state)).toEqual({ id: 't1', state });
  });

  it('reads PROGRESS with its meta', () => {
    expect(parseEventMessage('t1', 'PROGRESS\n{"current":3,"total":10}')).toEqual({
      id: 't1',
      state: 'PROGRESS',
      progress: { current: 3, total: 10 },
    });
  });

  it('splits at the first newline only, so the meta may contain newlines', () => {
    expect(parseEventMessage('t1', 'PROGRESS\n{\n"note": "a\\nb"\n}')?.progress).toEqual({ note: 'a\nb' });
  });

  it('reads any JSON meta, including null and strings', () => {
    expect(parseEventMessage('t1', 'PROGRESS\nnull')).toEqual({ id: 't1', state: 'PROGRESS', progress: null });
    expect(parseEventMessage('t1', 'PROGRESS\n"half"')?.progress).toBe('half');
  });

  it.each([[''], ['DONE'], ['success'], [' SUCCESS'], ['SUCCESS '], ['NOPE\n{}']])(
    'ignores the unknown message %p',
    (message) => {
      expect(parseEventMessage('t1', message)).toBeUndefined();
    },
  );

  it('ignores a PROGRESS message whose meta is not JSON, instead of throwing', () => {
    // Anyone can PUBLISH on the channel; a throw here escapes the ioredis 'message' handler as an
    // uncaught exception and takes down the process that watches the task.
    expect(parseEventMessage('t1', 'PROGRESS\n{not json')).toBeUndefined();
    expect(parseEventMessage('t1', 'PROGRESS\n')).toBeUndefined();
  });

  it('puts the given id into the event', () => {
    expect(parseEventMessage('abc-123', 'STARTED')?.id).toBe('abc-123');
  });
});

describe('parseEventMessage with outcomes', () => {
  it('carries the result of SUCCESS and the error of FAILURE or REVOKED', () => {
    expect(parseEventMessage('t', 'SUCCESS\n{"n":8}')).toEqual({ id: 't', state: 'SUCCESS', result: { n: 8 } });
    expect(parseEventMessage('t', 'SUCCESS\nnull')).toEqual({ id: 't', state: 'SUCCESS', result: null });
    expect(parseEventMessage('t', 'FAILURE\n{"name":"E","message":"m"}')).toEqual({
      id: 't',
      state: 'FAILURE',
      error: { name: 'E', message: 'm' },
    });
    expect(parseEventMessage('t', 'REVOKED\n{"name":"TaskRevokedError","message":"expired"}')?.error?.message).toBe('expired');
    expect(parseEventMessage('t', 'SUCCESS')).toEqual({ id: 't', state: 'SUCCESS' });
  });
});

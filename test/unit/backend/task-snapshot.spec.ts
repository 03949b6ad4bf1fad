import { describe, expect, it } from '@jest/globals';
import { decodeSnapshot, SNAPSHOT_FIELDS } from '../../../lib/backend/task-snapshot.js';

type Fields = Partial<Record<(typeof SNAPSHOT_FIELDS)[number], string>>;

/** HMGET's answer for these fields: values in SNAPSHOT_FIELDS order, null where absent. */
function hmget(fields: Fields): (string | null)[] {
  return SNAPSHOT_FIELDS.map((f) => fields[f] ?? null);
}

describe('decodeSnapshot', () => {
  it('reads an unknown task (every field null) as PENDING with no deliveries', () => {
    expect(decodeSnapshot('t1', 'default', hmget({}))).toEqual({
      id: 't1',
      queue: 'default',
      state: 'PENDING',
      retries: 0,
      deliveries: 0,
    });
  });

  it('decodes a finished task', () => {
    const snapshot = decodeSnapshot(
      't1',
      'reports',
      hmget({
        st: 'SUCCESS',
        n: 'reports.build',
        res: '"done after 2s"',
        prog: '{"current":2,"total":2}',
        dlv: '2',
        ct: '1700000000000',
        stt: '1700000001000',
        dt: '1700000003000',
        rt: '1',
      }),
    );
    expect(snapshot).toEqual({
      id: 't1',
      queue: 'reports',
      state: 'SUCCESS',
      task: 'reports.build',
      result: 'done after 2s',
      progress: { current: 2, total: 2 },
      deliveries: 2,
      retries: 1,
      createdAt: new Date(1_700_000_000_000),
      startedAt: new Date(1_700_000_001_000),
      doneAt: new Date(1_700_000_003_000),
    });
  });

  it("takes name and creation time from the message while the task's hash has none", () => {
    const message = JSON.stringify({ v: 1, id: 't1', task: 'reports.build', args: [], queue: 'q', attempt: 1, ct: 1_700_000_000_000, headers: {} });
    // Waiting to run: no hash at all.
    expect(decodeSnapshot('t1', 'q', hmget({}), message)).toMatchObject({
      state: 'PENDING',
      task: 'reports.build',
      createdAt: new Date(1_700_000_000_000),
    });
    // Running: the hash has its state, the message the rest.
    expect(decodeSnapshot('t1', 'q', hmget({ st: 'STARTED', stt: '1700000001000', dlv: '1' }), message)).toMatchObject({
      state: 'STARTED',
      task: 'reports.build',
      createdAt: new Date(1_700_000_000_000),
      startedAt: new Date(1_700_000_001_000),
      deliveries: 1,
    });
    // What the hash has wins.
    expect(decodeSnapshot('t1', 'q', hmget({ st: 'SUCCESS', n: 'other', ct: '1700000005000' }), message)).toMatchObject({
      task: 'other',
      createdAt: new Date(1_700_000_005_000),
    });
  });

  it('ignores a message that is not JSON, or whose name and time have the wrong types', () => {
    expect(decodeSnapshot('t1', 'q', hmget({ st: 'STARTED' }), '{not json')).not.toHaveProperty('task');
    const odd = decodeSnapshot('t1', 'q', hmget({}), JSON.stringify({ task: 7, ct: 'yesterday' }));
    expect(odd).not.toHaveProperty('task');
    expect(odd).not.toHaveProperty('createdAt');
  });

  it('decodes a failed task with its error', () => {
    const error = { name: 'TypeError', message: 'bad', code: 'E_BAD' };
    const snapshot = decodeSnapshot('t2', 'default', hmget({ st: 'FAILURE', err: JSON.stringify(error), dlv: '1' }));
    expect(snapshot.state).toBe('FAILURE');
    expect(snapshot.error).toEqual(error);
    expect(snapshot).not.toHaveProperty('result');
  });

  it('keeps falsy results: null, 0, false and the empty string', () => {
    for (const res of ['null', '0', 'false', '""']) {
      const snapshot = decodeSnapshot('t', 'q', hmget({ st: 'SUCCESS', res }));
      expect(snapshot).toHaveProperty('result', JSON.parse(res));
    }
  });

  it('reads a success without a result field as null (a task that returned nothing stores none)', () => {
    expect(decodeSnapshot('t', 'q', hmget({ st: 'SUCCESS' }))).toHaveProperty('result', null);
    expect(decodeSnapshot('t', 'q', hmget({ st: 'STARTED' }))).not.toHaveProperty('result');
  });

  it('reads an unknown state as PENDING', () => {
    expect(decodeSnapshot('t', 'q', hmget({ st: 'WEIRD' })).state).toBe('PENDING');
  });

  it('leaves out the task name when none is stored', () => {
    expect(decodeSnapshot('t', 'q', hmget({ st: 'STARTED' })).task).toBeUndefined();
    expect(decodeSnapshot('t', 'q', hmget({ st: 'STARTED', n: 'reports.build' })).task).toBe('reports.build');
  });

  it('gives the next run time only in RETRY', () => {
    expect(decodeSnapshot('t1', 'q', hmget({ st: 'RETRY', rt: '2', eta: '1700000005000' }))).toMatchObject({
      state: 'RETRY',
      retries: 2,
      nextRunAt: new Date(1_700_000_005_000),
    });
    expect(decodeSnapshot('t1', 'q', hmget({ st: 'STARTED', eta: '1700000005000' })).nextRunAt).toBeUndefined();
  });

  it('reads fields by their position in SNAPSHOT_FIELDS', () => {
    expect(SNAPSHOT_FIELDS).toEqual(['st', 'n', 'res', 'err', 'prog', 'dlv', 'ct', 'stt', 'dt', 'rt', 'eta']);
  });
});

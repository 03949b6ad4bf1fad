import { describe, expect, it } from '@jest/globals';
import { encodeEnvelope, ENVELOPE_VERSION, parseEnvelope, type TaskEnvelope } from '../../../lib/common/envelope.js';
import { MalformedMessageError } from '../../../lib/common/errors.js';

const valid = {
  v: ENVELOPE_VERSION,
  id: 'f3b1c1e0-0000-4000-8000-000000000001',
  task: 'reports.build',
  args: [10, { x: 1 }],
  queue: 'default',
  attempt: 1,
  headers: { trace: 'abc' },
};

function parse(overrides: Record<string, unknown>, drop?: string): ReturnType<typeof parseEnvelope> {
  const message: Record<string, unknown> = { ...valid, ...overrides };
  if (drop) delete message[drop];
  return parseEnvelope(JSON.stringify(message));
}

function problemOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(MalformedMessageError);
    expect((err as MalformedMessageError).code).toBe('MALFORMED_MESSAGE');
    return (err as Error).message;
  }
  throw new Error('expected a MalformedMessageError, nothing was thrown');
}

describe('parseEnvelope', () => {
  it('returns a valid envelope as it was sent', () => {
    expect(parseEnvelope(JSON.stringify(valid))).toEqual(valid);
  });

  it('keeps the optional fields', () => {
    const full = { ...valid, ct: 1_699_999_990_000, eta: 1_700_000_000_000, expires: 1_700_000_060_000, parent: 'p1', root: 'r1', attempt: 3 };
    expect(parseEnvelope(JSON.stringify(full))).toEqual(full);
  });

  it('accepts empty args and empty headers', () => {
    expect(parse({ args: [], headers: {} })).toMatchObject({ args: [], headers: {} });
  });

  it('rejects text that is not JSON', () => {
    expect(problemOf(() => parseEnvelope('{"v":1,'))).toMatch(/^Task message is malformed: not JSON/);
    expect(problemOf(() => parseEnvelope(''))).toContain('not JSON');
  });

  it.each([['an array', '[1,2]'], ['a string', '"hello"'], ['a number', '42'], ['null', 'null']])(
    'rejects JSON that is %s, not an object',
    (_label, raw) => {
      expect(problemOf(() => parseEnvelope(raw))).toContain('not a JSON object');
    },
  );

  it.each([[2], [0], ['1'], [null]])('rejects version %p', (v) => {
    expect(problemOf(() => parse({ v }))).toContain(`unsupported version ${JSON.stringify(v)}`);
  });

  it('rejects a message without a version', () => {
    expect(problemOf(() => parse({}, 'v'))).toContain('unsupported version');
  });

  it.each(['id', 'task', 'queue'])('rejects a missing, empty or non-string "%s"', (key) => {
    expect(problemOf(() => parse({}, key))).toContain(`"${key}" is missing or not a non-empty string`);
    expect(problemOf(() => parse({ [key]: '' }))).toContain(`"${key}"`);
    expect(problemOf(() => parse({ [key]: 7 }))).toContain(`"${key}"`);
  });

  it('rejects missing or non-array args', () => {
    expect(problemOf(() => parse({}, 'args'))).toContain('"args" is not an array');
    expect(problemOf(() => parse({ args: { 0: 1 } }))).toContain('"args" is not an array');
    expect(problemOf(() => parse({ args: 'x' }))).toContain('"args"');
  });

  it.each([[undefined], [0], [-1], [1.5], ['1'], [null]])('rejects attempt %p', (attempt) => {
    const fn = attempt === undefined ? () => parse({}, 'attempt') : () => parse({ attempt });
    expect(problemOf(fn)).toContain('"attempt" is not a positive integer');
  });

  it.each(['ct', 'eta', 'expires'])('rejects a non-number "%s"', (key) => {
    expect(problemOf(() => parse({ [key]: '2024-01-01' }))).toContain(`"${key}" is not a number`);
    expect(problemOf(() => parse({ [key]: null }))).toContain(`"${key}" is not a number`);
  });

  it.each(['parent', 'root'])('rejects a non-string "%s"', (key) => {
    expect(problemOf(() => parse({ [key]: 12 }))).toContain(`"${key}" is not a string`);
  });

  it('rejects missing, null, array or string headers', () => {
    expect(problemOf(() => parse({}, 'headers'))).toContain('"headers" is not an object');
    expect(problemOf(() => parse({ headers: null }))).toContain('"headers" is not an object');
    expect(problemOf(() => parse({ headers: [] }))).toContain('"headers" is not an object');
    expect(problemOf(() => parse({ headers: 'a=b' }))).toContain('"headers" is not an object');
  });
});

describe('encodeEnvelope', () => {
  // The keys in TaskEnvelope's order, as the producer builds them.
  const canonical = (e: TaskEnvelope): TaskEnvelope => {
    const { v, id, task, args, queue, attempt, ct, eta, expires, priority, parent, root, reply, headers } = e;
    const out: Record<string, unknown> = { v, id, task, args, queue, attempt, ct, eta, expires, priority, parent, root, reply, headers };
    for (const key of Object.keys(out)) if (out[key] === undefined) delete out[key];
    return out as unknown as TaskEnvelope;
  };

  it.each<[string, TaskEnvelope]>([
    ['a plain one', { ...valid, headers: {} }],
    ['one with headers', valid],
    ['one with every optional field', { ...valid, ct: 1_700_000_000_000, eta: 1_700_000_001_000, expires: 1_700_000_002_000, priority: 9, parent: 'p', root: 'r', reply: 'tq:reply:x' }],
    ['strings that JSON must escape', { ...valid, id: 'a"b\\c\n', task: 'tâche\u0001', queue: 'q', reply: 'line\u2028sep', headers: { 'k"': 'v\\' } }],
    ['lone and paired surrogates', { ...valid, id: 'x\ud800y', task: 'emoji 🚀', args: ['\udfff'] }],
  ])('writes %s exactly as JSON.stringify would', (_label, envelope) => {
    const text = encodeEnvelope(envelope);
    expect(text).toBe(JSON.stringify(canonical(envelope)));
    expect(JSON.parse(text)).toEqual(canonical(envelope));
  });
});

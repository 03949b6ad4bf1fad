import { describe, expect, it } from '@jest/globals';
import { NotSerializableError } from '../../../lib/common/errors.js';
import { assertJsonSerializable, toJson } from '../../../lib/common/json.js';

/** The NotSerializableError thrown by fn, so that path and message can both be checked. */
function rejection(fn: () => unknown): NotSerializableError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(NotSerializableError);
    return err as NotSerializableError;
  }
  throw new Error('expected a NotSerializableError, nothing was thrown');
}

describe('assertJsonSerializable', () => {
  it.each([
    ['a string', 'text'],
    ['an empty string', ''],
    ['zero', 0],
    ['a negative float', -1.5],
    ['true', true],
    ['false', false],
    ['null', null],
    ['an empty array', []],
    ['an empty object', {}],
    ['nested plain data', { a: [1, 'two', { b: null, c: [true] }] }],
    ['an object without prototype', Object.assign(Object.create(null) as object, { x: 1 })],
  ])('accepts %s', (_label, value) => {
    expect(() => assertJsonSerializable(value, 'args')).not.toThrow();
  });

  it.each([
    ['a function', () => 1, 'is a function'],
    ['a BigInt', 10n, 'is a BigInt'],
    ['a symbol', Symbol('s'), 'is a symbol'],
    ['NaN', Number.NaN, 'is NaN'],
    ['Infinity', Number.POSITIVE_INFINITY, 'is Infinity'],
    ['-Infinity', Number.NEGATIVE_INFINITY, 'is -Infinity'],
    ['undefined', undefined, 'is undefined'],
  ])('rejects %s at the top level', (_label, value, problem) => {
    const err = rejection(() => assertJsonSerializable(value, 'result'));
    expect(err.code).toBe('NOT_SERIALIZABLE');
    expect(err.path).toBe('result');
    expect(err.message).toMatch(new RegExp(`^result ${problem}`));
  });

  it('names the path of a bad value nested in arrays and objects', () => {
    const err = rejection(() => assertJsonSerializable(['ok', { x: () => 0 }], 'args'));
    expect(err.path).toBe('args[1].x');
    expect(err.message).toContain('args[1].x is a function');
  });

  it('names deep paths through objects and arrays', () => {
    const err = rejection(() => assertJsonSerializable({ a: { b: [0, 1, { c: 5n }] } }, 'args[0]'));
    expect(err.path).toBe('args[0].a.b[2].c');
  });

  it('rejects undefined inside an array (JSON would turn it into null)', () => {
    const err = rejection(() => assertJsonSerializable([1, undefined, 3], 'args'));
    expect(err.path).toBe('args[1]');
    expect(err.message).toContain('use null');
  });

  it('allows an undefined object property (JSON drops it, as an optional field means)', () => {
    expect(() => assertJsonSerializable({ a: 1, b: undefined }, 'args[0]')).not.toThrow();
    expect(toJson({ a: 1, b: undefined }, 'args[0]')).toBe('{"a":1}');
  });

  it('rejects a direct cycle', () => {
    const self: Record<string, unknown> = { name: 'me' };
    self.self = self;
    const err = rejection(() => assertJsonSerializable(self, 'args[0]'));
    expect(err.path).toBe('args[0].self');
    expect(err.message).toContain('cycle');
  });

  it('rejects a cycle nested deep inside, through an array', () => {
    const inner: { items: unknown[] } = { items: [] };
    const outer = { level: { inner } };
    inner.items.push(1, outer);
    const err = rejection(() => assertJsonSerializable([outer], 'args'));
    expect(err.path).toBe('args[0].level.inner.items[1]');
    expect(err.message).toContain('cycle');
  });

  it('rejects an array that contains itself', () => {
    const list: unknown[] = [1];
    list.push(list);
    expect(rejection(() => assertJsonSerializable(list, 'args')).path).toBe('args[1]');
  });

  it('accepts data nested deeper than it first looks for cycles, and finds a cycle behind that depth', () => {
    const root: { next?: unknown; bad?: unknown } = {};
    let node = root;
    for (let i = 0; i < 250; i++) node = (node.next = {}) as typeof root;
    expect(() => assertJsonSerializable(root, 'args')).not.toThrow();
    node.bad = () => 0;
    expect(rejection(() => assertJsonSerializable(root, 'args')).path).toBe(`args${'.next'.repeat(250)}.bad`);
    delete node.bad;
    node.next = root;
    const err = rejection(() => assertJsonSerializable(root, 'args'));
    expect(err.path).toBe(`args${'.next'.repeat(251)}`);
    expect(err.message).toContain('cycle');
  });

  it('accepts the same object twice when it is shared, not cyclic', () => {
    const shared = { n: 1 };
    expect(toJson({ a: shared, b: [shared, shared] }, 'args')).toBe('{"a":{"n":1},"b":[{"n":1},{"n":1}]}');
  });

  it.each([
    ['a Map', new Map([['a', 1]]), 'Map'],
    ['a Set', new Set([1]), 'Set'],
    ['a class instance', new (class Point { x = 1; })(), 'Point'],
    ['an Error', new Error('boom'), 'Error'],
    ['a RegExp', /x/, 'RegExp'],
  ])('rejects %s, naming its kind', (_label, value, kind) => {
    const err = rejection(() => assertJsonSerializable({ v: value }, 'args[0]'));
    expect(err.path).toBe('args[0].v');
    expect(err.message).toContain(`is a ${kind}`);
  });

  it('allows a Date, which travels as its ISO string', () => {
    const when = new Date('2024-05-06T07:08:09.000Z');
    expect(toJson({ when }, 'args[0]')).toBe('{"when":"2024-05-06T07:08:09.000Z"}');
  });

  it('rejects an invalid Date (JSON would turn it into null)', () => {
    expect(rejection(() => assertJsonSerializable([new Date('nope')], 'args')).message).toContain('invalid Date');
  });

  it('explains in the message what to send instead', () => {
    expect(rejection(() => assertJsonSerializable(1n, 'x')).message).toContain('travel as JSON');
  });
});

describe('toJson', () => {
  it('returns exactly what JSON.stringify returns for accepted values', () => {
    const value = { s: 'é"\n', n: [1, -2.5, 0], b: false, z: null, o: { deep: ['x'] } };
    expect(toJson(value, 'args')).toBe(JSON.stringify(value));
    expect(JSON.parse(toJson(value, 'args'))).toEqual(value);
  });

  it('throws before serialising a bad value', () => {
    expect(() => toJson([1, Number.NaN], 'args')).toThrow('args[1] is NaN');
  });
});

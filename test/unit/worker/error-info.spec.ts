import { describe, expect, it } from '@jest/globals';
import { toErrorInfo } from '../../../lib/worker/error-info.js';

describe('toErrorInfo', () => {
  it('keeps name, message and stack of an Error', () => {
    const err = new TypeError('bad input');
    const info = toErrorInfo(err);
    expect(info).toEqual({ name: 'TypeError', message: 'bad input', stack: err.stack });
    expect(info.stack).toContain('bad input');
  });

  it('keeps a string code, as Node errors have', () => {
    const err = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(toErrorInfo(err)).toMatchObject({ name: 'Error', message: 'connect ECONNREFUSED', code: 'ECONNREFUSED' });
  });

  it('leaves out a code that is not a string', () => {
    expect(toErrorInfo(Object.assign(new Error('x'), { code: 42 }))).not.toHaveProperty('code');
    expect(toErrorInfo(new Error('x'))).not.toHaveProperty('code');
  });

  it('uses the name a subclass gives itself', () => {
    class QuotaExceeded extends Error {
      override name = 'QuotaExceeded';
    }
    expect(toErrorInfo(new QuotaExceeded('over quota'))).toMatchObject({ name: 'QuotaExceeded', message: 'over quota' });
  });

  it('leaves out an empty stack', () => {
    const err = new Error('no stack');
    err.stack = '';
    expect(toErrorInfo(err)).toEqual({ name: 'Error', message: 'no stack' });
  });

  it('turns a thrown string into its message', () => {
    expect(toErrorInfo('plain failure')).toEqual({ name: 'NonErrorThrown', message: 'plain failure' });
  });

  it('turns a thrown object into its JSON', () => {
    expect(toErrorInfo({ status: 503, reason: 'busy' })).toEqual({
      name: 'NonErrorThrown',
      message: '{"status":503,"reason":"busy"}',
    });
  });

  it('turns undefined, null and numbers into readable text', () => {
    expect(toErrorInfo(undefined)).toEqual({ name: 'NonErrorThrown', message: 'undefined' });
    expect(toErrorInfo(null)).toEqual({ name: 'NonErrorThrown', message: 'null' });
    expect(toErrorInfo(42)).toEqual({ name: 'NonErrorThrown', message: '42' });
  });

  it('survives values JSON cannot serialise', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(toErrorInfo(cyclic)).toEqual({ name: 'NonErrorThrown', message: '[object Object]' });
    expect(toErrorInfo(10n)).toEqual({ name: 'NonErrorThrown', message: '10' });
    expect(toErrorInfo(Symbol('why'))).toEqual({ name: 'NonErrorThrown', message: 'Symbol(why)' });
  });

  it('always returns JSON that round-trips', () => {
    for (const thrown of [new RangeError('r'), 'text', { a: [1] }, undefined, 7n]) {
      const info = toErrorInfo(thrown);
      expect(JSON.parse(JSON.stringify(info))).toEqual(info);
      expect(typeof info.name).toBe('string');
      expect(typeof info.message).toBe('string');
    }
  });
});

import { describe, expect, it } from '@jest/globals';
import { InvalidOptionsError } from '../../../lib/common/errors.js';
import { RetryPolicy } from '../../../lib/worker/retry-policy.js';

const policy = (options: ConstructorParameters<typeof RetryPolicy>[0]) => new RetryPolicy(options, '@Task retry');
const lowest = () => 0.999_999; // random() close to 1: the largest cut jitter can make
const none = () => 0; // random() = 0: no cut

describe('RetryPolicy backoff', () => {
  it('waits the same delay each time with fixed backoff', () => {
    const p = policy({ max: 5, delay: 2_000, jitter: false });
    expect([1, 2, 3, 4].map((n) => p.delayFor(n))).toEqual([2_000, 2_000, 2_000, 2_000]);
  });

  it('doubles the delay with exponential backoff and stops at maxDelay', () => {
    const p = policy({ max: 10, backoff: 'exponential', delay: 100, maxDelay: 1_000, jitter: false });
    expect([1, 2, 3, 4, 5, 6].map((n) => p.delayFor(n))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  it('defaults to a 1 s fixed delay with equal jitter (between half and all of it)', () => {
    const p = policy({ max: 1 });
    expect(p.delayFor(1, none)).toBe(1_000);
    expect(p.delayFor(1, lowest)).toBe(500);
    expect(p.delayFor(1, () => 0.5)).toBe(750);
  });

  it('takes a jitter fraction', () => {
    const p = policy({ max: 1, delay: 1_000, jitter: 0.2 });
    expect(p.delayFor(1, none)).toBe(1_000);
    expect(p.delayFor(1, lowest)).toBe(800);
  });

  it('spreads the retries of many tasks that failed together', () => {
    const p = policy({ max: 3, delay: 10_000 });
    const delays = Array.from({ length: 1_000 }, () => p.delayFor(1));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(5_000);
    expect(Math.max(...delays)).toBeLessThanOrEqual(10_000);
    // Spread over the window: no 100 ms slot holds more than a small share of them.
    const slots = new Map<number, number>();
    for (const d of delays) slots.set(Math.floor(d / 100), (slots.get(Math.floor(d / 100)) ?? 0) + 1);
    expect(Math.max(...slots.values())).toBeLessThan(80);
    expect(new Set(delays).size).toBeGreaterThan(500);
  });
});

describe('RetryPolicy error filters', () => {
  class Transient extends Error {}
  class Fatal extends Transient {}

  it('retries every error by default', () => {
    expect(policy({ max: 1 }).retries(new TypeError('x'))).toBe(true);
    expect(policy({ max: 1 }).retries('a string')).toBe(true);
  });

  it('retries only errors retryOn names, by class or by name', () => {
    const p = policy({ max: 1, retryOn: [Transient, 'RangeError'] });
    expect(p.retries(new Transient('x'))).toBe(true);
    expect(p.retries(new RangeError('x'))).toBe(true);
    expect(p.retries(new TypeError('x'))).toBe(false);
    expect(p.retries('a string')).toBe(false);
  });

  it('never retries what noRetryOn names, even when retryOn matches', () => {
    const p = policy({ max: 1, retryOn: [Transient], noRetryOn: [Fatal] });
    expect(p.retries(new Transient('x'))).toBe(true);
    expect(p.retries(new Fatal('x'))).toBe(false);
  });
});

describe('RetryPolicy options', () => {
  it.each([
    [{ max: -1 }, '@Task retry.max'],
    [{ max: 1.5 }, '@Task retry.max'],
    [{ max: 1, delay: -1 }, '@Task retry.delay'],
    [{ max: 1, backoff: 'linear' as never }, '@Task retry.backoff'],
    [{ max: 1, jitter: 2 }, '@Task retry.jitter'],
  ])('rejects %p naming the option', (options, option) => {
    let caught: unknown;
    try {
      policy(options);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InvalidOptionsError);
    expect((caught as InvalidOptionsError).option).toBe(option);
  });
});

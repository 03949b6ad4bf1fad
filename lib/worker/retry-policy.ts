/**
 * When and how soon a failed task runs again.
 *
 * The delay before retry number n (1 for the first retry):
 *   fixed:        delay
 *   exponential:  delay * 2^(n-1), capped at maxDelay
 * then jitter takes a random part off it: with jitter j (0..1) the wait is uniform in
 * [d * (1 - j), d]. The default j = 0.5 ("equal jitter") keeps at least half of the delay
 * while spreading the retries of many tasks that failed together, so they do not all come
 * back at the same moment. jitter: false (or 0) gives exact delays.
 */
import { InvalidOptionsError } from '../common/errors.js';
import { integer } from '../common/option-checks.js';

export type ErrorMatcher = string | (abstract new (...args: never[]) => Error);

export interface RetryOptions {
  /** Retries after the first run (so max + 1 runs at most). */
  max: number;
  backoff?: 'fixed' | 'exponential';
  /** Milliseconds; the base delay. Default 1 000. */
  delay?: number;
  /** Milliseconds; the longest delay exponential backoff may reach. Default 3 600 000 (one hour). */
  maxDelay?: number;
  /** true (= 0.5), false (= 0) or the fraction of each delay that is random. Default true. */
  jitter?: boolean | number;
  /** Retry only errors of these classes (or error names). Default: every error. */
  retryOn?: readonly ErrorMatcher[];
  /** Never retry errors of these classes (or names); checked before retryOn. */
  noRetryOn?: readonly ErrorMatcher[];
  /** After the last retry, also put the task in the dead-letter store. Default false. */
  deadLetter?: boolean;
}

export class RetryPolicy {
  readonly max: number;
  readonly deadLetter: boolean;
  private readonly backoff: 'fixed' | 'exponential';
  private readonly delay: number;
  private readonly maxDelay: number;
  private readonly jitter: number;

  constructor(
    private readonly options: RetryOptions,
    where: string,
  ) {
    this.max = integer(options.max, `${where}.max`, 0, 0);
    this.delay = integer(options.delay, `${where}.delay`, 1_000, 0);
    this.maxDelay = integer(options.maxDelay, `${where}.maxDelay`, 3_600_000, 0);
    const backoff = options.backoff ?? 'fixed';
    if (backoff !== 'fixed' && backoff !== 'exponential') {
      throw new InvalidOptionsError(`${where}.backoff`, `must be 'fixed' or 'exponential', got ${String(backoff)}`);
    }
    this.backoff = backoff;
    const jitter = options.jitter === undefined || options.jitter === true ? 0.5 : options.jitter === false ? 0 : options.jitter;
    if (typeof jitter !== 'number' || !(jitter >= 0 && jitter <= 1)) {
      throw new InvalidOptionsError(`${where}.jitter`, `must be a boolean or a number from 0 to 1, got ${String(jitter)}`);
    }
    this.jitter = jitter;
    this.deadLetter = options.deadLetter === true;
  }

  /** Whether this error may be retried (the retry budget is checked separately). */
  retries(error: unknown): boolean {
    if (this.options.noRetryOn?.some((m) => matches(m, error))) return false;
    if (!this.options.retryOn) return true;
    return this.options.retryOn.some((m) => matches(m, error));
  }

  /** Milliseconds to wait before retry number `retry` (1-based). random() is injectable for tests. */
  delayFor(retry: number, random: () => number = Math.random): number {
    const base = this.backoff === 'fixed' ? this.delay : Math.min(this.delay * 2 ** (retry - 1), this.maxDelay);
    return Math.round(base * (1 - this.jitter * random()));
  }
}

function matches(matcher: ErrorMatcher, error: unknown): boolean {
  if (typeof matcher === 'string') return error instanceof Error && error.name === matcher;
  return error instanceof matcher;
}

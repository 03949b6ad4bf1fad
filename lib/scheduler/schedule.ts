/**
 * A periodic schedule: when its ticks fall. Cron expressions (with an optional seconds field)
 * and time zones are croner's; fixed intervals tick at multiples of `every` since the epoch, so
 * every replica computes the same ticks without talking to the others.
 */
import { Cron } from 'croner';
import { InvalidOptionsError } from '../common/errors.js';
import { assertJsonSerializable } from '../common/json.js';

export interface ScheduleOptions {
  /** A cron expression: 5 fields, or 6 with seconds first ('0 *\/5 * * * *'). */
  cron?: string;
  /** Milliseconds between ticks (instead of cron). */
  every?: number;
  /** IANA time zone for cron, e.g. 'Europe/Berlin' (DST handled by croner). Default: UTC. */
  timezone?: string;
  /** Arguments each tick's task is sent with. Default []. */
  args?: unknown[];
  /**
   * Ticks missed while no worker ran: 'last' (default) sends the most recent missed tick once
   * when a worker is back; 'none' skips them.
   */
  catchUp?: 'none' | 'last';
  /** Names the schedule in Redis; default: the task name. Give one when a task has several schedules. */
  name?: string;
}

export class Schedule {
  readonly catchUp: 'none' | 'last';
  readonly args: unknown[];
  private readonly cron: Cron | undefined;
  private readonly every: number | undefined;

  constructor(
    readonly name: string,
    readonly task: string,
    options: ScheduleOptions,
    where: string,
  ) {
    if ((options.cron === undefined) === (options.every === undefined)) {
      throw new InvalidOptionsError(where, 'needs exactly one of cron or every');
    }
    if (options.every !== undefined) {
      if (!Number.isInteger(options.every) || options.every < 1_000) {
        throw new InvalidOptionsError(`${where}.every`, `must be an integer number of milliseconds >= 1000, got ${String(options.every)}`);
      }
      this.every = options.every;
    } else {
      try {
        this.cron = new Cron(options.cron as string, { paused: true, timezone: options.timezone ?? 'UTC' });
      } catch (err) {
        throw new InvalidOptionsError(`${where}.cron`, `is not a valid cron expression: ${(err as Error).message}`);
      }
    }
    if (options.timezone !== undefined && options.every !== undefined) {
      throw new InvalidOptionsError(`${where}.timezone`, 'applies to cron schedules only');
    }
    if (options.catchUp !== undefined && options.catchUp !== 'none' && options.catchUp !== 'last') {
      throw new InvalidOptionsError(`${where}.catchUp`, `must be 'none' or 'last'`);
    }
    this.catchUp = options.catchUp ?? 'last';
    this.args = options.args ?? [];
    if (!Array.isArray(this.args)) throw new InvalidOptionsError(`${where}.args`, 'must be an array');
    assertJsonSerializable(this.args, `${where}.args`);
    if (!/^[A-Za-z0-9_.:-]{1,128}$/.test(name)) {
      throw new InvalidOptionsError(`${where}.name`, 'must be 1-128 characters from A-Z a-z 0-9 _ . : -');
    }
  }

  /** The first tick strictly after `after` (epoch ms), or null when the cron has none left. */
  nextTick(after: number): number | null {
    if (this.every !== undefined) return (Math.floor(after / this.every) + 1) * this.every;
    return this.cron?.nextRun(new Date(after))?.getTime() ?? null;
  }

  /** The last tick at or before `at`, or null. */
  lastTickAtOrBefore(at: number): number | null {
    if (this.every !== undefined) return Math.floor(at / this.every) * this.every;
    // previousRuns looks strictly before its reference: step past `at` by 1 ms.
    return this.cron?.previousRuns(1, new Date(at + 1))[0]?.getTime() ?? null;
  }
}

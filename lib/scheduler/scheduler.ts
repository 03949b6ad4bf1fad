/**
 * Runs periodic schedules in a worker process. Every replica may run it: each tick goes through
 * schedule-tick.lua, which enqueues it only if no replica did already, so a tick is sent once
 * however many workers there are. One timer per schedule per process; the tick time is the
 * schedule's, not the timer's, so replicas agree on it.
 */
import type { EngineLogger } from '../common/engine-logger.js';
import type { Broker } from '../broker/broker.js';
import type { Producer } from '../producer/producer.js';
import type { Schedule } from './schedule.js';

/** setTimeout's limit is about 24.8 days; longer waits are taken in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class Scheduler {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private stopped = false;

  constructor(
    private readonly schedules: readonly Schedule[],
    private readonly broker: Broker,
    private readonly producer: Producer,
    /** The queue a task name is sent to. */
    private readonly queueOf: (task: string) => string | undefined,
    private readonly logger: EngineLogger,
  ) {}

  async start(): Promise<void> {
    for (const schedule of this.schedules) {
      await this.catchUp(schedule).catch((err: unknown) =>
        this.logger.error(`Schedule ${schedule.name}: catching up failed: ${(err as Error).message}`),
      );
      this.arm(schedule, Date.now());
    }
    if (this.schedules.length > 0) {
      this.logger.log(`Scheduler running ${this.schedules.map((s) => s.name).join(', ')}`);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  /** Sends one tick; false when another replica (or an earlier run) already sent it or a later one. */
  async fire(schedule: Schedule, tick: number): Promise<boolean> {
    const built = this.producer.build({
      task: schedule.task,
      args: schedule.args,
      options: { taskId: `${schedule.name}@${tick}`, headers: { schedule: schedule.name, tick: String(tick) } },
      queueOfTask: this.queueOf(schedule.task),
    });
    return this.broker.enqueueTick(built.queue, schedule.name, tick, built.item);
  }

  private async catchUp(schedule: Schedule): Promise<void> {
    if (schedule.catchUp === 'none') return;
    const queue = this.producer.queueFor(this.queueOf(schedule.task));
    const last = await this.broker.lastTick(queue, schedule.name);
    if (last === null) return; // never ran: nothing was missed
    const missed = schedule.lastTickAtOrBefore(Date.now());
    if (missed !== null && missed > last && (await this.fire(schedule, missed))) {
      this.logger.log(`Schedule ${schedule.name}: sent the tick of ${new Date(missed).toISOString()} missed while down`);
    }
  }

  private arm(schedule: Schedule, after: number): void {
    if (this.stopped) return;
    const tick = schedule.nextTick(after);
    if (tick === null) return;
    const wait = tick - Date.now();
    const timer = setTimeout(
      () => {
        if (wait > MAX_TIMER_MS) return this.arm(schedule, after);
        this.fire(schedule, tick).catch((err: unknown) =>
          this.logger.error(`Schedule ${schedule.name}: tick ${new Date(tick).toISOString()} not sent: ${(err as Error).message}`),
        );
        this.arm(schedule, tick);
      },
      Math.max(Math.min(wait, MAX_TIMER_MS), 0),
    );
    timer.unref();
    this.timers.set(schedule.name, timer);
  }
}

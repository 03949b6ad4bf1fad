/**
 * The consume loop of one worker process: fetch ready tasks in batches (one round trip for as
 * many as there are free slots), run them with bounded concurrency (see task-run.ts), and
 * block on one connection while there is nothing to do. The slots are split between two fetch
 * lanes (see splitSlots), so that Redis works for one lane while this process runs the other's
 * tasks. Leases are renewed from a thread of their own (lease-keeper.ts); control commands
 * (terminate) arrive over pub/sub.
 *
 * The loop survives every Redis error: it logs that it is not consuming, backs off, and says
 * when it consumes again. Shutdown stops fetching, gives running tasks a grace period, then
 * aborts their signals and gives unfinished tasks back to their queue at once.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { EngineLogger } from '../common/engine-logger.js';
import type { Broker, FetchedTask } from '../broker/broker.js';
import type { EventSubscriber } from '../backend/event-subscriber.js';
import type { RedisConnections } from '../connection/redis-connections.js';
import { LeaseKeeper } from './lease-keeper.js';
import type { TaskLogger } from './task-context.js';
import type { TaskHandlerLookup } from './task-handler.js';
import { TaskRun, type RunDeps, type RunSettings } from './task-run.js';

export interface WorkerSettings extends RunSettings {
  queues: readonly string[];
  concurrency: number;
  /** At most this many running tasks from one queue (per queue named). */
  queueConcurrency?: Readonly<Record<string, number>>;
  /** How long a fetched task stays leased without renewal. */
  leaseMs: number;
  /** How long running tasks may finish after shutdown begins. */
  shutdownGraceMs: number;
  /** A message handed to workers more often than this (its worker died each time) is dead-lettered. */
  maxDeliveries: number;
  /** Longest single blocking wait; bounds how late expired leases of dead workers are noticed. */
  maxBlockMs?: number;
}

interface NextDue {
  /** Epoch ms; +Infinity when nothing is delayed. */
  at: number;
  queue?: string;
}

/**
 * How often a busy worker sweeps a queue in its fetch (promotes due delayed tasks, takes back
 * expired leases). A fetch that finds nothing ready sweeps anyway (fetch.lua), so a worker about
 * to block, or woken by the timer of a due task, never waits for this.
 */
const SWEEP_EVERY_MS = 50;

/**
 * How much longer than its longest blocking wait a worker's registration as idle holds (see
 * enqueue.lua): it registers again at every fetch that leaves it waiting, at least once per wait,
 * so only a worker that died (or stalled this long) lets it run out.
 */
const IDLE_REGISTRATION_SLACK_MS = 5_000;

export type TaskLoggerFactory = (taskName: string, id: string) => TaskLogger;

/** One fetch loop's share of the worker's slots. */
interface Lane {
  slots: number;
  running: number;
  /**
   * Set when this lane's last fetch took tasks and left its queues empty: once it has room again
   * it waits for news of more work (and until this due time), instead of asking for what is not there.
   */
  drained?: NextDue;
  /**
   * Set when a task was handed to this lane and left it room: it registers as idle again before
   * it waits (its commit, if the task ended at once, carries the registration; else it goes alone).
   */
  reregister?: boolean;
}

export class Worker {
  readonly id = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private readonly runs = new Map<string, TaskRun>();
  /** Runs whose outcome is not committed yet (their slot may be free already); shutdown waits for them. */
  private unfinished = 0;
  private readonly runFinished = new Signal();
  private stopping = false;
  private loopDone: Promise<void> | undefined;
  private leases: LeaseKeeper | undefined;
  private stopListening: (() => void)[] = [];
  private readonly lanes: Lane[];
  /** Fired when a run frees its slot. */
  private readonly slotFree = new Signal();
  /** Fired when a fetch left ready tasks behind: for a lane that found none. */
  private readonly moreWork = new Signal();
  private healthy = true;
  /** True while a lane waits in BLPOP for new work (for all lanes). */
  private blocked = false;
  /** Set while a fetched batch started in this turn of the event loop (see startBatch). */
  private batchStartedThisTurn = false;
  private readonly lastSweep = new Map<string, number>();
  /** When this worker last fetched (epoch ms): hand-offs skip the fetch only for so long (see loop). */
  private lastFetchAt = 0;
  /** What every run of this worker shares (one object, not one per task). */
  private readonly runDeps: RunDeps;
  /**
   * Whether an enqueue may hand a task straight to this worker while it waits idle, saving the
   * round trip of a fetch (see enqueue.lua). Only for a worker of one queue: one that serves
   * several could be registered idle in one queue while another keeps all its slots busy.
   */
  private readonly takesHandOffs: boolean;

  constructor(
    private readonly connections: RedisConnections,
    private readonly broker: Broker,
    private readonly subscriber: EventSubscriber,
    private readonly handlers: TaskHandlerLookup,
    private readonly settings: WorkerSettings,
    private readonly logger: EngineLogger,
    private readonly taskLogger: TaskLoggerFactory,
  ) {
    for (const q of settings.queues) broker.keys(q); // validates queue names before anything starts
    this.runDeps = { broker, handlers, settings, logger, taskLogger, workerId: this.id };
    this.lanes = splitSlots(settings).map((slots) => ({ slots, running: 0 }));
    this.takesHandOffs = settings.queues.length === 1;
  }

  /** True while the loop is fetching without errors. */
  get consuming(): boolean {
    return this.loopDone !== undefined && !this.stopping && this.healthy;
  }

  async start(): Promise<void> {
    if (this.loopDone) return;
    this.leases = new LeaseKeeper(
      this.connections.spec,
      this.settings.leaseMs,
      this.settings.queues.map((q) => this.broker.keys(q).active),
      // Room for every slot twice over (a run being abandoned while its redelivery starts).
      this.settings.concurrency * 2 + 16,
      (err) =>
        this.logger.error(
          `Lease keeper connection to ${this.connections.where}: ${err.message}; leases of running tasks ` +
            `are not renewed, so they may be delivered again`,
        ),
      () => this.logger.log(`Lease keeper connection to ${this.connections.where} is back`),
    );
    // Not awaited: it goes ahead of every fetch and commit on the same connection anyway. Not
    // fatal: a script Redis does not have is sent in full on first use (NOSCRIPT).
    void this.broker.loadScripts().catch(() => undefined);
    // Subscribed before the first fetch, so no terminate for a task of ours can be missed.
    for (const queue of this.settings.queues) {
      this.stopListening.push(
        await this.subscriber.listen(this.broker.keys(queue).control, (m) => this.onControl(queue, m)),
      );
    }
    this.loopDone = Promise.all(this.lanes.map((lane) => this.loop(lane))).then(() => undefined);
    this.logger.log(
      `Worker ${this.id} consuming [${this.settings.queues.join(', ')}] with concurrency ${this.settings.concurrency}`,
    );
  }

  async close(): Promise<void> {
    if (this.stopping) return this.loopDone;
    this.stopping = true;
    this.slotFree.fire();
    this.moreWork.fire();
    // No task is handed to a worker that stops: unregistered before its wait is broken (a task
    // handed over meanwhile would be lost with the connection until its lease ran out), and once
    // more after its loops end, when no fetch can register it again.
    await this.handBackAll();
    this.connections.interruptBlocking();
    await this.loopDone;
    await this.handBackAll();
    const grace = this.settings.shutdownGraceMs;
    if (this.runs.size > 0) {
      this.logger.log(`Waiting up to ${grace} ms for ${this.runs.size} running task(s)`);
      await settleWithin([...this.runs.values()].map((r) => r.done), grace);
    }
    if (this.runs.size > 0) {
      this.logger.warn(`${this.runs.size} task(s) still running after ${grace} ms: aborting and requeueing them`);
      await Promise.all([...this.runs.values()].map((r) => r.giveBack().catch(() => undefined)));
    }
    await settleWithin([this.allFinished()], 5_000);
    for (const stop of this.stopListening) stop();
    await this.leases?.close();
  }

  private async loop(lane: Lane): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      try {
        if (lane.running >= lane.slots) {
          await this.slotFreed();
          continue;
        }
        let due = lane.drained;
        lane.drained = undefined;
        due ??= await this.fetchRound(lane);
        if (due !== undefined && !this.stopping) {
          const reregister = lane.reregister === true;
          lane.reregister = undefined;
          // A task just handed over that ends at once has issued its commit by then, and that
          // commit carries the registration.
          if (reregister) {
            await commitsOfThisTurn();
            if (this.stopping) continue;
          }
          // No fetch carries this turn's outcomes: they go now, ahead of the wait (registering
          // this worker as idle, when it takes hand-offs).
          this.broker.flushCompletions(this.idleTerms(), reregister);
          // One lane waits in Redis for all; the others wait until a fetch leaves tasks behind.
          if (this.blocked) await this.moreWork.wait();
          else {
            const handed = await this.waitForWork(due);
            // A task is handed over only when nothing else waits (enqueue.lua), and whatever is
            // sent after it is handed over too or leaves a wake-up marker: no fetch would find
            // anything. A lane it fills commits it alone once it ends, then waits again; one it
            // leaves room in registers again and waits at once. But at least once per longest
            // wait it fetches, as a waiting worker does: a fetch that finds nothing sweeps, and
            // that is how the tasks of workers that died are taken back.
            const fetchedLately = Date.now() - this.lastFetchAt < this.maxBlockMs();
            if (handed && this.takeHandOff(handed, lane) && fetchedLately) {
              lane.drained = due;
              lane.reregister = this.roomFor(handed.queue, lane) > 0;
            }
          }
        }
        if (!this.healthy) this.logger.log(`Worker ${this.id} is consuming again`);
        this.healthy = true;
        failures = 0;
      } catch (err) {
        if (this.stopping) break;
        failures++;
        if (this.healthy) this.logger.error(`Worker ${this.id} is NOT consuming: ${(err as Error).message}; retrying`);
        this.healthy = false;
        // The error path only: back off so a Redis outage is not hammered.
        await sleep(Math.min(50 * 2 ** failures, 2_000));
      }
    }
  }

  /**
   * Blocks until new work is signalled or the earliest delayed task is due. Redis times out
   * blocked clients only every 1/hz seconds (100 ms by default), too coarse for a due time, so
   * a local timer wakes a worker of that queue on time instead, by pushing its wake marker.
   */
  private async waitForWork(due: NextDue): Promise<FetchedTask | undefined> {
    const maxBlock = this.maxBlockMs();
    const wait = due.at - Date.now();
    let timer: NodeJS.Timeout | undefined;
    if (due.queue !== undefined && wait < maxBlock) {
      const queue = due.queue;
      timer = setTimeout(() => void this.broker.wake(queue).catch(() => undefined), Math.max(wait, 0));
    }
    this.blocked = true;
    try {
      return await this.broker.waitForWork(
        this.connections.blocking,
        this.settings.queues,
        maxBlock,
        this.takesHandOffs ? this.id : undefined,
      );
    } finally {
      this.blocked = false;
      clearTimeout(timer);
    }
  }

  /**
   * Fetches from each queue in order into free slots. Returns when (and in which queue) the
   * earliest delayed task is due if nothing came, or undefined when tasks came (noting in the
   * lane when they were the last ones).
   */
  private async fetchRound(lane: Lane): Promise<NextDue | undefined> {
    let got = 0;
    const next: NextDue = { at: Number.POSITIVE_INFINITY };
    let full = false;
    let drained = true;
    for (const queue of this.settings.queues) {
      const room = this.roomFor(queue, lane);
      if (room <= 0) {
        full ||= lane.running >= lane.slots;
        drained = false;
        continue;
      }
      if (this.stopping) break;
      this.lastFetchAt = Date.now();
      const result = await this.broker.fetch(
        queue,
        room,
        {
          leaseMs: this.settings.leaseMs,
          workerId: this.id,
          maxDeliveries: this.settings.maxDeliveries,
          resultTtlSec: this.settings.resultTtlSec,
          ...(this.takesHandOffs ? { idleMs: this.idleMs() } : {}),
        },
        this.sweepDue(queue),
      );
      if (result.nextDue !== null && result.nextDue < next.at) {
        next.at = result.nextDue;
        next.queue = queue;
      }
      const runs = result.tasks.map((task) => this.prepare(task, lane));
      // The lease keeper must know of these tasks before any handler runs: one may block the loop.
      this.leases?.flush();
      this.startBatch(runs);
      got += result.tasks.length;
      drained &&= result.drained;
      if (!result.drained) this.moreWork.fire();
    }
    if (got > 0) {
      if (drained) lane.drained = next;
      return undefined;
    }
    // Every queue with work is at its own limit: wait for a slot, not for new work.
    if (!full && this.queueLimitsReached(lane)) {
      await this.slotFreed();
      return undefined;
    }
    return next;
  }

  /**
   * Resolves once a run has freed its slot, and every run that ends in this turn has issued its
   * commit: the fetch that follows takes those outcomes along and Redis records them before it
   * hands out more (see Completions), instead of the outcomes waiting behind that fetch.
   */
  private async slotFreed(): Promise<void> {
    await this.slotFree.wait();
    await commitsOfThisTurn();
  }

  /**
   * Starts the runs of a fetched batch. When another lane's batch started in this same turn (both
   * answers came in one read), this one starts in the next turn: the first lane's next fetch,
   * carrying its outcomes, is then written before this batch runs, and Redis works on it
   * meanwhile. Started together, both lanes would run together, then wait for Redis together, and
   * stay in step (measured with npm run bench: one fetch per lane, with that lane's outcomes).
   */
  private startBatch(runs: readonly TaskRun[]): void {
    const start = (): void => {
      for (const run of runs) void run.run();
    };
    if (this.batchStartedThisTurn) {
      setImmediate(start);
      return;
    }
    this.batchStartedThisTurn = true;
    setImmediate(() => (this.batchStartedThisTurn = false));
    start();
  }

  /**
   * Runs a task handed to this worker while it waited (in the lane that waited: it has room). One
   * handed over so long ago that its lease may have run out unrenewed (this process stalled) goes
   * back to its queue instead: it may have been taken back and given to another worker already.
   */
  private takeHandOff(task: FetchedTask, lane: Lane): boolean {
    const age = Date.now() - (task.handedAt ?? 0);
    if (this.stopping || this.roomFor(task.queue, lane) <= 0 || age > this.settings.leaseMs / 2) {
      this.broker.handBack(task.queue, this.id, this.settings.leaseMs, [task.id], false).catch((err: unknown) =>
        this.logger.warn(`Task ${task.id} handed to this worker could not be given back (${(err as Error).message}); it runs again once its lease runs out`),
      );
      return false;
    }
    const run = this.prepare(task, lane);
    this.leases?.flush();
    this.startBatch([run]);
    return true;
  }

  private maxBlockMs(): number {
    return this.settings.maxBlockMs ?? 5_000;
  }

  /** How long a registration as idle holds (see IDLE_REGISTRATION_SLACK_MS). */
  private idleMs(): number {
    return this.maxBlockMs() + IDLE_REGISTRATION_SLACK_MS;
  }

  private idleTerms(): { queue: string; workerId: string; leaseMs: number; idleMs: number } | undefined {
    const queue = this.settings.queues[0];
    if (!this.takesHandOffs || queue === undefined) return undefined;
    return { queue, workerId: this.id, leaseMs: this.settings.leaseMs, idleMs: this.idleMs() };
  }

  /** Unregisters this worker as idle and gives back what was handed to it and not taken yet. */
  private async handBackAll(): Promise<void> {
    const queue = this.settings.queues[0];
    if (!this.takesHandOffs || queue === undefined) return;
    await settleWithin([this.broker.handBack(queue, this.id, this.settings.leaseMs, [], true).catch(() => undefined)], 2_000);
  }

  /** Whether this fetch of the queue sweeps first (see SWEEP_EVERY_MS); records it if so. */
  private sweepDue(queue: string): boolean {
    const now = Date.now();
    if (now - (this.lastSweep.get(queue) ?? 0) < SWEEP_EVERY_MS) return false;
    this.lastSweep.set(queue, now);
    return true;
  }

  private async allFinished(): Promise<void> {
    while (this.unfinished > 0) await this.runFinished.wait();
  }

  private roomFor(queue: string, lane: Lane): number {
    const room = lane.slots - lane.running;
    const limit = this.settings.queueConcurrency?.[queue];
    if (limit === undefined) return room;
    let running = 0;
    for (const run of this.runs.values()) if (run.task.queue === queue) running++;
    return Math.min(room, limit - running);
  }

  private queueLimitsReached(lane: Lane): boolean {
    return this.settings.queues.every((q) => this.roomFor(q, lane) <= 0);
  }

  private prepare(task: FetchedTask, lane: Lane): TaskRun {
    const key = runKey(task.queue, task.id);
    // Our own lease on it ran out (a long Redis outage) and it came back to us: one run at a time.
    this.runs.get(key)?.abandon();
    const activeKey = this.broker.keys(task.queue).active;
    const hold = this.leases?.hold(activeKey, task.id);
    const run = new LaneRun(task, this.runDeps, this.laneEvents, lane, key, activeKey, hold);
    this.runs.set(key, run);
    lane.running++;
    this.unfinished++;
    return run;
  }

  /** What a LaneRun reports back: one object per worker, not a closure per task. */
  private readonly laneEvents: LaneEvents = {
    settled: (run) => {
      if (run.hold !== undefined) this.leases?.release(run.activeKey, run.task.id, run.hold);
      if (this.runs.get(run.key) === run) this.runs.delete(run.key);
      run.lane.running--;
      this.slotFree.fire();
      // A queue at its own limit may have work waiting that BLPOP will not hear of: look again.
      const { queue } = run.task;
      if (this.blocked && this.settings.queueConcurrency?.[queue] !== undefined) {
        this.broker.wake(queue).catch(() => undefined);
      }
    },
    finished: () => {
      this.unfinished--;
      this.runFinished.fire();
    },
  };

  /** Control messages are "terminate\n<id>\n<reason>" (see scripts/revoke.lua). */
  private onControl(queue: string, message: string): void {
    const [command, id, reason] = message.split('\n');
    if (command !== 'terminate' || !id) return;
    const run = this.runs.get(runKey(queue, id));
    if (!run) return;
    this.logger.log(`Task ${id} terminated: ${reason ?? 'revoked'}`);
    void run.terminate(reason || 'revoked').catch((err: unknown) =>
      this.logger.error(`Task ${id}: could not record its revocation: ${(err as Error).message}`),
    );
  }
}

interface LaneEvents {
  settled(run: LaneRun): void;
  finished(): void;
}

/** A run in one of the worker's lanes, with what the worker undoes when its slot frees. */
class LaneRun extends TaskRun {
  constructor(
    task: FetchedTask,
    deps: RunDeps,
    private readonly events: LaneEvents,
    readonly lane: Lane,
    /** Its key in the worker's table of runs. */
    readonly key: string,
    readonly activeKey: string,
    /** Its place in the lease keeper's table, if it holds one. */
    readonly hold: number | undefined,
  ) {
    super(task, deps);
  }

  protected override onSettled(): void {
    this.events.settled(this);
  }

  protected override onFinished(): void {
    this.events.finished();
  }
}

/**
 * Two lanes with half of the slots each: with one, this process and Redis take turns (Redis idle
 * while the process runs a batch, the process idle while Redis commits it and fetches the next);
 * with two, Redis commits and fetches for one lane while the other lane's tasks run. One lane for
 * a single slot, and when queues have their own limits (two lanes fetching at once could both
 * take the last room of a queue).
 */
function splitSlots({ concurrency, queueConcurrency }: WorkerSettings): number[] {
  if (concurrency < 2 || (queueConcurrency && Object.keys(queueConcurrency).length > 0)) return [concurrency];
  return [Math.ceil(concurrency / 2), Math.floor(concurrency / 2)];
}

/** Wakes everything waiting on it at once; each waiter then looks again at what it waits for. */
class Signal {
  private waiters: (() => void)[] = [];

  wait(): Promise<void> {
    return new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  fire(): void {
    if (this.waiters.length === 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

function runKey(queue: string, id: string): string {
  return `${queue}\n${id}`;
}

/**
 * Resolves once the runs that end in this turn have issued their commits: they do in its promise
 * jobs, and a tick comes after all of them.
 */
function commitsOfThisTurn(): Promise<void> {
  return new Promise<void>((resolve) => process.nextTick(resolve));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function settleWithin(promises: Promise<unknown>[], ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.allSettled(promises),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))),
  ]);
  clearTimeout(timer);
}

/**
 * The one place that names Redis keys. Every key of a queue carries the queue's hash tag
 * ({queue}), so a queue lives in one Redis Cluster slot and each Lua script touches one slot.
 */
import { InvalidQueueNameError } from '../common/errors.js';

const QUEUE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

export function assertQueueName(queue: string): void {
  if (typeof queue !== 'string' || !QUEUE_NAME.test(queue)) throw new InvalidQueueNameError(String(queue));
}

export class QueueKeys {
  /** Ids of tasks ready to run, oldest first (LIST). */
  readonly wait: string;
  /** Leased tasks: id -> lease deadline in epoch ms (ZSET). */
  readonly active: string;
  /** Tasks not yet due: id -> due time in epoch ms (ZSET). */
  readonly delayed: string;
  /** At most one marker that wakes one blocked worker (LIST, popped with BLPOP). */
  readonly wake: string;
  /** Dead letters: id -> JSON entry with the original message and the reason (HASH). */
  readonly dead: string;
  /** Dead letters in arrival order: id -> epoch ms (ZSET). */
  readonly deadIndex: string;
  /** Present while the queue is paused (STRING). */
  readonly paused: string;
  /**
   * Present while some process follows task events of the queue (STRING with a TTL, renewed by
   * QueueWatch): workers publish STARTED and outcome events only then.
   */
  readonly watched: string;
  /** Pub/sub channel on which workers of the queue hear control commands (terminate). */
  readonly control: string;
  /**
   * Message bodies of tasks not yet final: id -> envelope JSON (HASH). Kept apart from the task
   * hashes so that those stay small enough for Redis' compact encoding (values <= 64 bytes).
   */
  readonly messages: string;
  /**
   * Workers waiting idle for this queue, to which an enqueue hands a task directly (ZSET:
   * '<lease ms> <worker id>' -> registered until, epoch ms); each one's hand-off list is
   * `<idle>:<worker id>` (see handOff).
   */
  readonly idle: string;
  /** Prefix of per-task hashes; the task id follows. */
  readonly taskPrefix: string;
  /** Prefix of per-task pub/sub channels; the task id follows. */
  readonly eventPrefix: string;

  constructor(
    readonly prefix: string,
    readonly queue: string,
  ) {
    assertQueueName(queue);
    const base = `${prefix}:{${queue}}:`;
    this.wait = `${base}wait`;
    this.active = `${base}active`;
    this.delayed = `${base}delayed`;
    this.wake = `${base}wake`;
    this.dead = `${base}dead`;
    this.deadIndex = `${base}dead:index`;
    this.paused = `${base}paused`;
    this.messages = `${base}msg`;
    this.control = `${base}control`;
    this.watched = `${base}watched`;
    this.idle = `${base}idle`;
    this.taskPrefix = `${base}t:`;
    this.eventPrefix = `${base}ev:`;
  }

  task(id: string): string {
    return this.taskPrefix + id;
  }

  /** The list an idle worker's BLPOP waits on for tasks handed to it (see enqueue.lua). */
  handOff(workerId: string): string {
    return `${this.idle}:${workerId}`;
  }

  events(id: string): string {
    return this.eventPrefix + id;
  }

  /** The rate limiter of one task name in this queue (STRING: next free slot). */
  rateLimit(task: string): string {
    return `${this.prefix}:{${this.queue}}:rl:${task}`;
  }

  /** The last tick enqueued by one periodic schedule (STRING). */
  schedule(name: string): string {
    return `${this.prefix}:{${this.queue}}:sched:${name}`;
  }
}

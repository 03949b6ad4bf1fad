/**
 * Builds task messages and hands them to the broker. Arguments are checked to be JSON before
 * anything reaches Redis, so a bad argument fails the caller and never a worker.
 */
import { randomBytes } from 'node:crypto';
import { encodeEnvelope, ENVELOPE_VERSION, type TaskEnvelope } from '../common/envelope.js';
import { InvalidArgumentError, PayloadTooLargeError, RedisUnavailableError } from '../common/errors.js';
import { guarded } from '../connection/redis-errors.js';
import { Deadlines } from '../connection/when-ready.js';
import { assertJsonSerializable } from '../common/json.js';
import type { Broker, EnqueueItem } from '../broker/broker.js';
import { SendBatcher } from './send-batcher.js';
import type { SendOptions } from './send-options.js';

export interface SentTask {
  id: string;
  queue: string;
  /** False when a task with the same taskId already existed; nothing new was enqueued. */
  enqueued: boolean;
  /** The message names this process's reply inbox: its outcome is published there. */
  replied: boolean;
}

export interface SendRequest {
  task: string;
  args: readonly unknown[];
  options?: SendOptions;
  /** The queue the task declared, used when options.queue names none. */
  queueOfTask?: string;
}

export interface ProducerLimits {
  /** Longest a send may wait for Redis (to connect and to answer). */
  sendTimeoutMs: number;
  maxPayloadBytes: number;
}

/**
 * Tasks per enqueue call of sendMany. Calls go out one after another on one connection (one
 * round trip for them all): Redis runs the first slice while the producer encodes the next,
 * instead of waiting for the whole batch.
 */
const SEND_MANY_SLICE = 250;

export class Producer {
  private readonly deadlines = new Deadlines();
  private readonly batcher = new SendBatcher((queue, items) => this.enqueue(queue, items));

  constructor(
    private readonly broker: Broker,
    private readonly defaultQueue: string,
    private readonly limits: ProducerLimits,
    /** Resolves when the connection is usable; rejects after the given time. */
    private readonly ready: (ms: number) => Promise<void>,
    private readonly where: string,
    /** The reply channel sends name, when this process waits for outcomes (see ReplyInbox). */
    private readonly replyTo: () => string | undefined = () => undefined,
  ) {}

  /** Sends one task; the sends of one event-loop turn go to Redis together (see SendBatcher). */
  async send(task: string, args: readonly unknown[], options: SendOptions = {}, queueOfTask?: string): Promise<SentTask> {
    const reply = this.replyTo();
    const { id, queue, item } = this.build({ task, args, options, queueOfTask }, reply);
    const enqueued = await this.batcher.add(queue, item);
    // A task that existed already was sent earlier, maybe without this inbox.
    return { id, queue, enqueued, replied: enqueued && reply !== undefined };
  }

  /**
   * Sends many tasks with one script call per queue (one round trip for a whole batch).
   * Every message is checked before any is sent: one bad argument fails the whole batch.
   */
  async sendMany(requests: readonly SendRequest[]): Promise<SentTask[]> {
    const byQueue = new Map<string, { index: number; item: EnqueueItem }[]>();
    const results: SentTask[] = new Array(requests.length);
    const reply = this.replyTo();
    requests.forEach((request, index) => {
      const { id, queue, item } = this.build(request, reply);
      results[index] = { id, queue, enqueued: false, replied: false };
      const group = byQueue.get(queue) ?? [];
      group.push({ index, item });
      byQueue.set(queue, group);
    });
    const sends: Promise<void>[] = [];
    for (const [queue, group] of byQueue) {
      for (let from = 0; from < group.length; from += SEND_MANY_SLICE) {
        const slice = group.slice(from, from + SEND_MANY_SLICE);
        sends.push(
          this.enqueue(queue, slice.map((g) => g.item)).then((enqueued) => {
            slice.forEach((g, i) => {
              const result = results[g.index] as SentTask;
              result.enqueued = enqueued[i] === true;
              result.replied = result.enqueued && reply !== undefined;
            });
          }),
        );
      }
    }
    await (sends.length === 1 ? sends[0] : Promise.all(sends));
    return results;
  }

  /** One enqueue call, bounded by sendTimeoutMs from waiting for the connection to the answer. */
  private async enqueue(queue: string, items: EnqueueItem[]): Promise<boolean[]> {
    const started = Date.now();
    await this.ready(this.limits.sendTimeoutMs);
    const left = Math.max(this.limits.sendTimeoutMs - (Date.now() - started), 1);
    return this.deadlines.bound(guarded(this.where, this.broker.enqueue(queue, items)), left, () =>
      new RedisUnavailableError(
        this.where,
        `no answer to the send of ${items.length === 1 ? `task ${items[0]?.id}` : `${items.length} tasks (${items[0]?.id}, …)`} ` +
          `within ${this.limits.sendTimeoutMs} ms. It may still be enqueued once Redis answers; sending again with the ` +
          `same taskId never enqueues twice`,
      ),
    );
  }

  /** The queue a send goes to when it names none. */
  queueFor(queueOfTask: string | undefined, queue?: string): string {
    return queue ?? queueOfTask ?? this.defaultQueue;
  }

  /** Checks a request and builds its message, without sending it. */
  build({ task, args, options = {}, queueOfTask }: SendRequest, reply?: string): { id: string; queue: string; item: EnqueueItem } {
    if (typeof task !== 'string' || task.length === 0) throw new InvalidArgumentError('The task name', 'must be a non-empty string');
    if (!Array.isArray(args)) throw new InvalidArgumentError('args', "must be an array of the task's arguments");
    assertJsonSerializable(args, 'args');
    const queue = this.queueFor(queueOfTask, options.queue);
    this.broker.keys(queue); // validates the queue name
    const id = options.taskId ?? newTaskId();
    if (typeof id !== 'string' || id.length === 0 || id.length > 200) {
      throw new InvalidArgumentError('Option taskId', 'must be a non-empty string of at most 200 characters');
    }
    const due = dueTime(options);
    const expires = expiryTime(options);
    const priority = priorityOf(options);
    const envelope: TaskEnvelope = {
      v: ENVELOPE_VERSION,
      id,
      task,
      args: args as unknown[],
      queue,
      attempt: 1,
      ct: Date.now(),
      headers: options.headers ?? {},
    };
    if (due > 0) envelope.eta = due;
    if (expires > 0) envelope.expires = expires;
    if (priority > 0) envelope.priority = priority;
    if (reply !== undefined) envelope.reply = reply;
    const body = encodeEnvelope(envelope);
    // UTF-8 takes at most 3 bytes per UTF-16 unit: most messages need no byte count at all.
    if (body.length * 3 > this.limits.maxPayloadBytes) {
      const bytes = Buffer.byteLength(body);
      if (bytes > this.limits.maxPayloadBytes) throw new PayloadTooLargeError(task, bytes, this.limits.maxPayloadBytes);
    }
    return { id, queue, item: { id, body, due, expires, priority, task, newId: options.taskId === undefined } };
  }
}

function dueTime(options: SendOptions): number {
  if (options.countdown !== undefined) {
    if (typeof options.countdown !== 'number' || !Number.isFinite(options.countdown) || options.countdown < 0) {
      throw new InvalidArgumentError('Option countdown', 'must be a number of milliseconds >= 0');
    }
    return options.countdown > 0 ? Date.now() + options.countdown : 0;
  }
  if (options.eta !== undefined) {
    const at = options.eta instanceof Date ? options.eta.getTime() : options.eta;
    if (typeof at !== 'number' || !Number.isFinite(at)) throw new InvalidArgumentError('Option eta', 'must be a Date or epoch milliseconds');
    return at;
  }
  return 0;
}

function expiryTime(options: SendOptions): number {
  if (options.expires === undefined) return 0;
  const at = options.expires instanceof Date ? options.expires.getTime() : Date.now() + options.expires;
  if (typeof at !== 'number' || !Number.isFinite(at) || (typeof options.expires === 'number' && options.expires < 0)) {
    throw new InvalidArgumentError('Option expires', 'must be milliseconds from now (>= 0) or a Date');
  }
  return at;
}

function priorityOf(options: SendOptions): number {
  const p = options.priority ?? 0;
  if (!Number.isInteger(p) || p < 0 || p > 9) throw new InvalidArgumentError('Option priority', `must be an integer from 0 to 9, got ${String(p)}`);
  return p;
}

/**
 * 22 URL-safe characters of a CSPRNG (132 random bits: as unique as a UUID v4, and 14 bytes
 * shorter in every key, list entry and message that carries it). Random bytes are drawn and
 * encoded 3 KiB at a time: one call into the CSPRNG and one base64 encoding per 186 ids.
 */
const ID_LENGTH = 22;
let idPool = '';
let idOffset = 0;

function newTaskId(): string {
  if (idOffset + ID_LENGTH > idPool.length) {
    idPool = randomBytes(3_072).toString('base64url');
    idOffset = 0;
  }
  idOffset += ID_LENGTH;
  return idPool.slice(idOffset - ID_LENGTH, idOffset);
}

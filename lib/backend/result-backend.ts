/**
 * The result backend: reads a task's state, result, error and progress, and turns the
 * per-task pub/sub channel into events. Waiting is push-based: subscribe first, then read,
 * then wait for messages; nothing here polls.
 */
import { ClosedError, type RemoteErrorInfo } from '../common/errors.js';
import { Observable, type Subscriber } from 'rxjs';
import { isFinalState, isTaskState, type TaskState } from '../common/task-state.js';
import type { Broker } from '../broker/broker.js';
import { guarded, toTaskQueueError } from '../connection/redis-errors.js';
import type { EventSubscriber } from './event-subscriber.js';
import type { QueueWatch } from './queue-watch.js';
import { decodeSnapshot, SNAPSHOT_FIELDS, type TaskSnapshot } from './task-snapshot.js';

export interface TaskEvent {
  id: string;
  state: TaskState;
  /** Progress meta, on PROGRESS events. */
  progress?: unknown;
  /** The result, on SUCCESS. */
  result?: unknown;
  /** The recorded error, on FAILURE. */
  error?: RemoteErrorInfo;
}

export class ResultBackend {
  private readonly openStreams = new Set<Subscriber<TaskEvent>>();
  private streamsClosed = false;

  constructor(
    private readonly broker: Broker,
    private readonly subscriber: EventSubscriber,
    private readonly watch: QueueWatch,
    private readonly where: string,
  ) {}

  /** Everything known of a task now, from its hash and, while it has one, its message. */
  async read(queue: string, id: string): Promise<TaskSnapshot> {
    const { values, message } = await guarded(this.where, this.broker.readTask(queue, id, SNAPSHOT_FIELDS));
    return decodeSnapshot(id, queue, values, message);
  }

  /** Whether Redis knows the task: it has a hash, or a message (it waits to run). */
  async exists(queue: string, id: string): Promise<boolean> {
    const { message, hasHash } = await guarded(this.where, this.broker.readTask(queue, id, []));
    return hasHash || message !== null;
  }

  /**
   * Ends every open event stream with ClosedError (at shutdown: a stream of a task that never
   * finishes would otherwise hold an HTTP response, and the server, open forever).
   */
  closeStreams(): void {
    this.streamsClosed = true;
    for (const subscriber of [...this.openStreams]) subscriber.error(new ClosedError('The task event stream'));
    this.openStreams.clear();
  }

  /**
   * State changes of one task: the current state first, then each change, completing after a
   * final state. Consecutive repeats of a state (other than PROGRESS) are not emitted twice.
   */
  events(queue: string, id: string): Observable<TaskEvent> {
    return new Observable<TaskEvent>((subscriber) => {
      if (this.streamsClosed) {
        subscriber.error(new ClosedError('The task event stream'));
        return;
      }
      this.openStreams.add(subscriber);
      let stop: (() => void) | undefined;
      let closed = false;
      let last: TaskState | undefined;
      // Messages that arrive while the first read is in flight wait here, in order.
      let backlog: string[] | undefined = [];

      const emit = (event: TaskEvent) => {
        if (closed) return;
        if (event.state === last && event.state !== 'PROGRESS') return;
        last = event.state;
        subscriber.next(event);
        if (isFinalState(event.state)) {
          closed = true;
          subscriber.complete();
        }
      };
      // Final events carry the whole snapshot; reading it keeps the order of emits.
      let chain: Promise<void> = Promise.resolve();
      const onMessage = (message: string) => {
        const event = parseEventMessage(id, message);
        if (!event) return;
        chain = chain.then(async () => {
          // A final event without its outcome (ignoreResult, say) is completed from the hash.
          const complete = !isFinalState(event.state) || event.result !== undefined || event.error !== undefined;
          emit(complete ? event : finalEvent(await this.read(queue, id), event.state));
        });
        chain.catch((err: unknown) => subscriber.error(toTaskQueueError(err, this.where)));
      };

      // The current state, as an event; only what moves the stream forward is emitted.
      const fromSnapshot = (snapshot: TaskSnapshot): void => {
        if (last !== undefined && STATE_RANK[snapshot.state] <= STATE_RANK[last]) return;
        emit(
          isFinalState(snapshot.state)
            ? finalEvent(snapshot, snapshot.state)
            : { id, state: snapshot.state, ...(snapshot.state === 'PROGRESS' ? { progress: snapshot.progress } : {}) },
        );
      };
      // The queue's watch mark lapsed while we followed it: a change may not have been published.
      const readAgain = () => {
        if (closed || backlog) return;
        chain = chain.then(async () => fromSnapshot(await this.read(queue, id)));
        chain.catch((err: unknown) => subscriber.error(toTaskQueueError(err, this.where)));
      };

      this.subscriber
        .listen(this.broker.keys(queue).events(id), (m) => (backlog ? backlog.push(m) : onMessage(m)))
        .then(async (unlisten) => {
          stop = unlisten;
          if (closed) return unlisten();
          // Workers publish STARTED and outcomes only for a watched queue (see QueueWatch): the
          // mark goes first, so that what the read does not see yet is published.
          const hold = this.watch.hold(queue, readAgain);
          stop = () => {
            unlisten();
            hold.release();
          };
          const [snapshot] = await Promise.all([this.read(queue, id), hold.marked]);
          if (closed) return;
          fromSnapshot(snapshot);
          const pending = backlog ?? [];
          backlog = undefined;
          // A message that raced the read may be older than the snapshot: skip those that would
          // step the state backwards (STARTED after PROGRESS, say).
          for (const m of pending) {
            const state = parseEventMessage(id, m)?.state;
            if (state && STATE_RANK[state] >= STATE_RANK[snapshot.state]) onMessage(m);
          }
        })
        .catch((err: unknown) => subscriber.error(toTaskQueueError(err, this.where)));

      return () => {
        closed = true;
        this.openStreams.delete(subscriber);
        stop?.();
      };
    });
  }
}

function finalEvent(snapshot: TaskSnapshot, state: TaskState): TaskEvent {
  const event: TaskEvent = { id: snapshot.id, state };
  if (snapshot.result !== undefined) event.result = snapshot.result;
  if (snapshot.error !== undefined) event.error = snapshot.error;
  return event;
}

const STATE_RANK: Record<TaskState, number> = {
  PENDING: 0,
  RETRY: 0,
  STARTED: 1,
  PROGRESS: 2,
  SUCCESS: 3,
  FAILURE: 3,
  REVOKED: 3,
};

/**
 * Event messages are "STATE", or "STATE\n<JSON>" where the JSON is the progress meta (PROGRESS),
 * the result (SUCCESS) or the error (FAILURE, REVOKED); see the PUBLISH calls in scripts/.
 */
export function parseEventMessage(id: string, message: string): TaskEvent | undefined {
  const newline = message.indexOf('\n');
  const state = newline < 0 ? message : message.slice(0, newline);
  if (!isTaskState(state)) return undefined;
  if (newline < 0) return { id, state };
  let payload: unknown;
  try {
    payload = JSON.parse(message.slice(newline + 1));
  } catch {
    // Not written by our scripts: someone else published on the channel. Ignore it.
    return undefined;
  }
  if (state === 'PROGRESS') return { id, state, progress: payload };
  if (state === 'SUCCESS') return { id, state, result: payload };
  if (state === 'FAILURE' || state === 'REVOKED') return { id, state, error: payload as RemoteErrorInfo };
  return { id, state };
}

/**
 * A handle on one task, wherever it runs (Celery's AsyncResult): its state, progress, result
 * and a stream of its state changes. Everything is read from Redis, except the outcome of a
 * task this process sent, which its reply inbox may have received already (see ReplyInbox).
 */
import {
  defer,
  EmptyError,
  filter,
  firstValueFrom,
  from,
  Observable,
  type Subscription,
  switchMap,
  tap,
  timeout as rxTimeout,
  TimeoutError,
} from 'rxjs';
import { TaskFailedError, TaskRevokedError, TaskTimeoutError } from '../common/errors.js';
import { isFinalState, type TaskState } from '../common/task-state.js';
import type { ReplyInbox } from '../backend/reply-inbox.js';
import type { ResultBackend, TaskEvent } from '../backend/result-backend.js';
import type { TaskSnapshot } from '../backend/task-snapshot.js';

export interface ResultOptions {
  /** Milliseconds to wait before rejecting with TaskTimeoutError; waits without limit when left out. */
  timeout?: number;
}

export interface RevokeOptions {
  /** Also abort the task if it is running: its ctx.signal fires, it ends REVOKED and its slot is freed. */
  terminate?: boolean;
  /** Why; recorded as the REVOKED reason. Default 'revoked'. */
  reason?: string;
}

/** 'revoked': it will never run; 'running': it runs (terminated if asked); 'final': it had already finished. */
export type RevokeResult = 'revoked' | 'running' | 'final';

export type Revoker = (queue: string, id: string, options: RevokeOptions) => Promise<RevokeResult>;

/**
 * How long result() relies on the reply inbox alone for a task sent with its address. After
 * that it also follows the task's own events, which see every outcome: the ones nobody replies
 * to (a revoke before the start, expiry, a dead-letter) and replies lost to a reconnect.
 */
const REPLY_ONLY_MS = 1_000;

export class TaskHandle<R = unknown> {
  private events: Observable<TaskEvent> | undefined;

  constructor(
    readonly id: string,
    /** The task's queue, or how to find it (a handle made from an id alone looks it up). */
    private readonly where: string | (() => Promise<string>),
    private readonly backend: ResultBackend,
    private readonly revoker: Revoker,
    private readonly replies?: ReplyInbox,
    /** When the task was sent with this process's reply address (undefined: it was not). */
    private readonly repliedSince?: number,
  ) {}

  /** State changes, starting with the current state and completing after a final one. */
  get events$(): Observable<TaskEvent> {
    // Built on first use: most handles are never watched.
    return (this.events ??= defer(() => from(this.locateQueue())).pipe(
      switchMap((queue) => this.backend.events(queue, this.id)),
    ));
  }

  /** The queue the task lives in. */
  queue(): Promise<string> {
    return this.locateQueue();
  }

  private locateQueue(): Promise<string> {
    return typeof this.where === 'string' ? Promise.resolve(this.where) : this.where();
  }

  async state(): Promise<TaskState> {
    return (await this.snapshot()).state;
  }

  /** Everything known of the task now: state, progress, result or error, times. */
  async snapshot(): Promise<TaskSnapshot> {
    return this.backend.read(await this.locateQueue(), this.id);
  }

  /**
   * Like Celery's AsyncResult.info: the progress meta while in PROGRESS; in RETRY the last
   * error with the retry count and when the next run is due; the error details after FAILURE;
   * the result after SUCCESS; otherwise undefined.
   */
  async info(): Promise<unknown> {
    const s = await this.snapshot();
    if (s.state === 'RETRY') return { error: s.error, retries: s.retries, nextRunAt: s.nextRunAt };
    if (s.state === 'FAILURE' || s.state === 'REVOKED') return s.error;
    if (s.state === 'SUCCESS') return s.result;
    return s.progress;
  }

  /**
   * Revokes the task from any process (Celery's revoke): a pending or delayed task never runs;
   * with { terminate: true } a running one is aborted and ends REVOKED.
   */
  async revoke(options: RevokeOptions = {}): Promise<RevokeResult> {
    return this.revoker(await this.locateQueue(), this.id, options);
  }

  /** The task's return value; rejects with TaskFailedError, TaskRevokedError or TaskTimeoutError. */
  async result(options: ResultOptions = {}): Promise<R> {
    // Opens the inbox on the first wait: sends from then on are replied to.
    this.replies?.use();
    const final =
      this.repliedSince !== undefined && this.replies
        ? await this.finalByReply(this.replies, this.repliedSince, options.timeout)
        : await this.finalByEvents(options.timeout);
    if (final.state === 'SUCCESS') return final.result as R;
    if (final.state === 'REVOKED') throw new TaskRevokedError(this.id, final.error?.message ?? 'revoked');
    throw new TaskFailedError(this.id, final.error ?? { name: 'Error', message: 'unknown failure' });
  }

  /** The first final event of the task's own events. */
  private async finalByEvents(timeoutMs: number | undefined): Promise<TaskEvent> {
    let last: TaskState = 'PENDING';
    let events = this.events$.pipe(
      tap((e) => (last = e.state)),
      filter((e) => isFinalState(e.state)),
    );
    if (timeoutMs !== undefined) events = events.pipe(rxTimeout({ first: timeoutMs }));
    try {
      return await firstValueFrom(events);
    } catch (err) {
      if (!(err instanceof TimeoutError)) throw err;
      throw new TaskTimeoutError(this.id, timeoutMs ?? 0, last);
    }
  }

  /**
   * The outcome from the reply inbox, for a task sent with its address: most waits end here,
   * with two timers and no observable (what a caller of send() then result() pays on every
   * task). After REPLY_ONLY_MS the task's own events are followed too (see REPLY_ONLY_MS).
   */
  private finalByReply(replies: ReplyInbox, repliedSince: number, timeoutMs: number | undefined): Promise<TaskEvent> {
    return new Promise<TaskEvent>((resolve, reject) => {
      let last: TaskState = 'PENDING';
      let followed: Subscription | undefined;
      let stopReply: (() => void) | undefined;
      let followTimer: NodeJS.Timeout | undefined;
      let timeoutTimer: NodeJS.Timeout | undefined;
      let done = false;
      const end = (): boolean => {
        if (done) return false;
        done = true;
        stopReply?.();
        clearTimeout(followTimer);
        clearTimeout(timeoutTimer);
        followed?.unsubscribe();
        return true;
      };
      const settle = (event: TaskEvent): void => {
        if (end()) resolve(event);
      };
      // Settles at once when the reply came before this wait.
      stopReply = replies.wait(this.id, settle);
      if (done) return;
      followTimer = setTimeout(() => {
        followed = this.events$.subscribe({
          next: (e) => {
            last = e.state;
            if (isFinalState(e.state)) settle(e);
          },
          error: (err: unknown) => {
            if (end()) reject(err);
          },
          complete: () => {
            if (end()) reject(new EmptyError());
          },
        });
      }, Math.max(repliedSince + REPLY_ONLY_MS - Date.now(), 0));
      if (timeoutMs === undefined) return;
      timeoutTimer = setTimeout(() => {
        if (!end()) return;
        // Timed out with no state seen yet (waiting on the reply alone): read it once.
        const seen = last === 'PENDING' ? this.state().catch(() => last) : Promise.resolve(last);
        void seen.then((state) => reject(new TaskTimeoutError(this.id, timeoutMs, state)));
      }, timeoutMs);
    });
  }
}

/** Options of one send: Celery's apply_async options, the ones this version supports. */
export interface SendOptions {
  /** Use this id instead of a random UUID. Sending an id that already exists returns that task. */
  taskId?: string;
  /** The queue to send to; defaults to the task's own queue, then to the module's defaultQueue. */
  queue?: string;
  /** Run no sooner than this many milliseconds from now. */
  countdown?: number;
  /** Run no sooner than this moment. */
  eta?: Date | number;
  /**
   * A task not started by then never runs and ends REVOKED with reason 'expired':
   * milliseconds from now, or a moment.
   */
  expires?: number | Date;
  /**
   * 0 (the default) to 9: higher levels run first, FIFO within a level. Ten levels, like
   * Celery's 0-9 range, each one list in Redis, so FIFO order and O(1) pushes and pops stay.
   */
  priority?: number;
  /** Free-form string headers carried with the message. */
  headers?: Record<string, string>;
}

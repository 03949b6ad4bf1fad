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
  /** Free-form string headers carried with the message. */
  headers?: Record<string, string>;
}

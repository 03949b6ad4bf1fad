/** The TaskContext a worker hands to one run of a task. */
import { toJson } from '../common/json.js';
import { TaskContext, type TaskLogger } from './task-context.js';

export interface RunningTaskFacts {
  id: string;
  name: string;
  queue: string;
  attempt: number;
  delivery: number;
  signal: AbortSignal;
  logger: TaskLogger;
}

export class RunningTaskContext extends TaskContext {
  readonly id: string;
  readonly name: string;
  readonly queue: string;
  readonly attempt: number;
  readonly delivery: number;
  readonly signal: AbortSignal;
  readonly logger: TaskLogger;

  constructor(
    facts: RunningTaskFacts,
    private readonly report: (metaJson: string) => Promise<unknown>,
  ) {
    super();
    this.id = facts.id;
    this.name = facts.name;
    this.queue = facts.queue;
    this.attempt = facts.attempt;
    this.delivery = facts.delivery;
    this.signal = facts.signal;
    this.logger = facts.logger;
  }

  async progress(meta: unknown): Promise<void> {
    await this.report(toJson(meta, 'progress meta'));
  }
}

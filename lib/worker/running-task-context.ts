/** The TaskContext a worker hands to one run of a task. */
import { toJson } from '../common/json.js';
import { InvalidArgumentError } from '../common/errors.js';
import { RetryRequest, TaskContext, type RetryRequestOptions, type TaskLogger } from './task-context.js';

export interface RunningTaskFacts {
  id: string;
  name: string;
  queue: string;
  attempt: number;
  retries: number;
  /** Made when first read: most tasks use neither. */
  signal: () => AbortSignal;
  logger: () => TaskLogger;
}

export class RunningTaskContext extends TaskContext {
  readonly id: string;
  readonly name: string;
  readonly queue: string;
  readonly attempt: number;
  readonly retries: number;
  private madeLogger: TaskLogger | undefined;

  constructor(
    private readonly facts: RunningTaskFacts,
    private readonly report: (metaJson: string) => Promise<unknown>,
  ) {
    super();
    this.id = facts.id;
    this.name = facts.name;
    this.queue = facts.queue;
    this.attempt = facts.attempt;
    this.retries = facts.retries;
  }

  get signal(): AbortSignal {
    return this.facts.signal();
  }

  get logger(): TaskLogger {
    return (this.madeLogger ??= this.facts.logger());
  }

  async progress(meta: unknown): Promise<void> {
    await this.report(toJson(meta, 'progress meta'));
  }

  retry(options: RetryRequestOptions = {}): never {
    if (options.countdown !== undefined && !(typeof options.countdown === 'number' && options.countdown >= 0)) {
      throw new InvalidArgumentError('ctx.retry() option countdown', 'must be a number of milliseconds >= 0');
    }
    throw new RetryRequest(options);
  }
}

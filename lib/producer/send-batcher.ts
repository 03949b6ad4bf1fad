/**
 * Coalesces the single sends of one event-loop turn into one enqueue call per queue: a service
 * that sends from many requests at once pays one script run and one round trip per batch, not
 * per task. Order is kept: a queue's tasks are enqueued in the order send() was called.
 *
 * A batch goes out as soon as it holds `maxBatch` tasks rather than at the end of the turn, so
 * that under load Redis runs one batch while the next is being built (the two overlap on
 * separate cores) instead of the producer and Redis taking turns.
 */
import type { EnqueueItem } from '../broker/broker.js';

interface Waiting {
  item: EnqueueItem;
  settle: (enqueued: boolean) => void;
  fail: (err: unknown) => void;
}

/** Enqueues items of one queue; resolves per item whether it was new (see Broker.enqueue). */
export type EnqueueBatch = (queue: string, items: EnqueueItem[]) => Promise<boolean[]>;

export class SendBatcher {
  private readonly open = new Map<string, Waiting[]>();
  private scheduled = false;

  constructor(
    private readonly enqueue: EnqueueBatch,
    private readonly maxBatch = 64,
  ) {}

  add(queue: string, item: EnqueueItem): Promise<boolean> {
    return new Promise<boolean>((settle, fail) => {
      let batch = this.open.get(queue);
      if (!batch) this.open.set(queue, (batch = []));
      batch.push({ item, settle, fail });
      if (batch.length >= this.maxBatch) {
        this.open.delete(queue);
        this.send(queue, batch);
      } else if (!this.scheduled) {
        this.scheduled = true;
        // nextTick runs once this turn's promise jobs are done: every send of the turn is in.
        process.nextTick(this.flush);
      }
    });
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    const batches = [...this.open];
    this.open.clear();
    for (const [queue, batch] of batches) this.send(queue, batch);
  };

  private send(queue: string, batch: Waiting[]): void {
    this.enqueue(
      queue,
      batch.map((w) => w.item),
    ).then(
      (enqueued) => batch.forEach((w, i) => w.settle(enqueued[i] === true)),
      (err: unknown) => batch.forEach((w) => w.fail(err)),
    );
  }
}

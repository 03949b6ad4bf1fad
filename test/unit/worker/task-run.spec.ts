// TaskRun on its own: what it commits and when its slot frees. The broker here records the calls a
// run makes; what those calls do in Redis is tested in test/integration.
import { describe, expect, it } from '@jest/globals';
import type { Broker, FetchedTask, Outcome, SentBy } from '../../../lib/broker/broker.js';
import type { TaskLogger } from '../../../lib/worker/task-context.js';
import { TaskRun, type RunDeps } from '../../../lib/worker/task-run.js';

const silent = { log: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };

function fetched(id: string): FetchedTask {
  const body = JSON.stringify({ v: 1, id, task: 'work', args: [2], queue: 'q', attempt: 1, ct: 1_700_000_000_000, headers: {} });
  return { queue: 'q', id, body, token: 'w:1', delivery: 1, retries: 0, reservation: 0 };
}

function setup() {
  const invoked: unknown[][] = [];
  const committed: Outcome['state'][] = [];
  const sent: SentBy[] = [];
  const broker = {
    prefix: 'tq',
    complete: async (_task: FetchedTask, outcome: Outcome, _ttl: number, by: SentBy) => {
      committed.push(outcome.state);
      sent.push(by);
      return true;
    },
  } as unknown as Broker;
  const deps: RunDeps = {
    broker,
    handlers: {
      get: () => ({
        name: 'work',
        takesContext: false,
        invoke: (args: unknown[]) => {
          invoked.push(args);
          return 1;
        },
      }),
    },
    settings: { resultTtlSec: 60 },
    logger: silent,
    taskLogger: () => silent as unknown as TaskLogger,
    workerId: 'w',
  };
  return { invoked, committed, sent, deps };
}

/** Counts the hooks a worker's runs report through. */
class CountedRun extends TaskRun {
  settledCalls = 0;
  finishedCalls = 0;
  protected override onSettled(): void {
    this.settledCalls++;
  }
  protected override onFinished(): void {
    this.finishedCalls++;
  }
}

describe('TaskRun', () => {
  it('runs its handler, commits SUCCESS, and reports its slot free and its run finished once each', async () => {
    const { invoked, committed, sent, deps } = setup();
    const run = new CountedRun(fetched('a'), deps);
    await run.run();
    await run.done;
    expect(invoked).toEqual([[2]]);
    expect(committed).toEqual(['SUCCESS']);
    expect(sent).toEqual([{ reply: '', name: 'work', createdAt: '1700000000000' }]);
    expect([run.settledCalls, run.finishedCalls]).toEqual([1, 1]);
  });

  it('does not run a handler whose run was terminated before it started (its batch waited a turn)', async () => {
    const { invoked, committed, sent, deps } = setup();
    const run = new CountedRun(fetched('b'), deps);
    await run.terminate('revoked by a test');
    await run.run();
    expect(invoked).toEqual([]);
    expect(committed).toEqual(['REVOKED']);
    // Its message is read for the commit all the same: the record keeps name and creation time.
    expect(sent).toEqual([{ reply: '', name: 'work', createdAt: '1700000000000' }]);
    expect([run.settledCalls, run.finishedCalls]).toEqual([1, 1]);
  });

  it('frees its slot once when the commit issued on settling fails', async () => {
    const { deps } = setup();
    const failing = { ...deps, broker: { prefix: 'tq', complete: async () => Promise.reject(new Error('down')) } as unknown as Broker };
    const run = new CountedRun(fetched('c'), failing);
    await run.run();
    expect([run.settledCalls, run.finishedCalls]).toEqual([1, 1]);
    await expect(run.done).resolves.toBeUndefined();
  });
});

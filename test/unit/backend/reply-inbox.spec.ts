import { describe, expect, it } from '@jest/globals';
import { ReplyInbox } from '../../../lib/backend/reply-inbox.js';
import type { EventSubscriber } from '../../../lib/backend/event-subscriber.js';
import type { TaskEvent } from '../../../lib/backend/result-backend.js';

/** A subscriber that delivers what the test says, on the one channel the inbox listens to. */
function channelStub() {
  const state = { deliver: undefined as ((m: string) => void) | undefined, listens: 0, stops: 0 };
  const subscriber = {
    listen: async (_channel: string, listener: (m: string) => void) => {
      state.listens++;
      state.deliver = listener;
      return () => {
        state.stops++;
        state.deliver = undefined;
      };
    },
  } as unknown as EventSubscriber;
  return { subscriber, state };
}

const tick = () => new Promise((r) => setImmediate(r));

/** The event wait() hands over (at once or later). */
const waitFor = (inbox: ReplyInbox, id: string) => new Promise<TaskEvent>((resolve) => inbox.wait(id, resolve));

describe('ReplyInbox', () => {
  it('has no address until a result() uses it and the subscription is confirmed', async () => {
    const { subscriber, state } = channelStub();
    const inbox = new ReplyInbox('tq', subscriber);
    expect(inbox.address).toBeUndefined();
    inbox.use();
    inbox.use();
    await tick();
    expect(inbox.address).toBe(inbox.channel);
    expect(inbox.channel.startsWith('tq:reply:')).toBe(true);
    expect(state.listens).toBe(1);
  });

  it('hands a reply to its waiter, or keeps it for a later one, within count and byte bounds', async () => {
    const { subscriber, state } = channelStub();
    const inbox = new ReplyInbox('tq', subscriber, { maxKept: 2, maxKeptBytes: 1_000 });
    inbox.use();
    await tick();
    const waited = waitFor(inbox, 'a');
    state.deliver?.('a\nSUCCESS\n1');
    await expect(waited).resolves.toEqual({ id: 'a', state: 'SUCCESS', result: 1 });

    state.deliver?.('b\nSUCCESS\n2');
    state.deliver?.('c\nFAILURE\n{"name":"E","message":"m"}');
    state.deliver?.('d\nSUCCESS\n4'); // over the count: b goes
    await expect(waitFor(inbox, 'c')).resolves.toMatchObject({ state: 'FAILURE', error: { name: 'E' } });
    state.deliver?.(`e\nSUCCESS\n"${'x'.repeat(990)}"`); // over the bytes: d goes
    const late = waitFor(inbox, 'b');
    state.deliver?.('b\nSUCCESS\n22'); // b was dropped: only a new reply answers
    await expect(late).resolves.toMatchObject({ result: 22 });
    expect(inbox.address).toBe(inbox.channel);
  });

  it('stops a wait when told: a later reply is kept for the next waiter instead', async () => {
    const { subscriber, state } = channelStub();
    const inbox = new ReplyInbox('tq', subscriber);
    inbox.use();
    await tick();
    const seen: TaskEvent[] = [];
    const stop = inbox.wait('a', (e) => seen.push(e));
    const second = waitFor(inbox, 'a');
    stop();
    state.deliver?.('a\nSUCCESS\n1');
    await expect(second).resolves.toMatchObject({ result: 1 });
    expect(seen).toEqual([]);
    stop(); // twice is harmless
    const stopB = inbox.wait('b', (e) => seen.push(e));
    stopB();
    state.deliver?.('b\nSUCCESS\n2');
    await expect(waitFor(inbox, 'b')).resolves.toMatchObject({ result: 2 });
    expect(seen).toEqual([]);
  });

  it('closes when a reply comes after a long time without result()', async () => {
    const { subscriber, state } = channelStub();
    const inbox = new ReplyInbox('tq', subscriber, { idleCloseMs: 0 });
    inbox.use();
    await tick();
    await new Promise((r) => setTimeout(r, 5));
    state.deliver?.('x\nSUCCESS\n1');
    expect(inbox.address).toBeUndefined();
    expect(state.stops).toBe(1);
    inbox.use();
    await tick();
    expect(inbox.address).toBe(inbox.channel);
  });

  it('accepts as reply addresses only channels under its own prefix', () => {
    expect(ReplyInbox.accepts('tq', 'tq:reply:abc')).toBe(true);
    expect(ReplyInbox.accepts('tq', 'other:reply:abc')).toBe(false);
    expect(ReplyInbox.accepts('tq', 'tq:ev:abc')).toBe(false);
    expect(ReplyInbox.accepts('tq', 42)).toBe(false);
  });
});

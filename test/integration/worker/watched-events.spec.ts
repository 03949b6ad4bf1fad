import { afterEach, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import type { TestingModule } from '@nestjs/testing';
import { lastValueFrom, toArray } from 'rxjs';
import { Task, TaskClient, TaskWorkerHost } from '../../../lib/index.js';
import { TaskQueueEngine } from '../../../lib/engine.js';
import { QueueWatch } from '../../../lib/backend/queue-watch.js';
import { bootApp } from '../../support/nest-app.js';
import { eventually, rawRedisForEachTest, uniquePrefix } from '../../support/test-redis.js';

@Injectable()
class EchoTasks {
  @Task('watch.echo')
  echo(n: number): number {
    return n;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('task events: published while someone watches the queue', () => {
  let app: TestingModule | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });
  const raw = rawRedisForEachTest();

  it('publishes no STARTED or outcome event of a task in a queue nobody watches', async () => {
    app = await bootApp([EchoTasks], { worker: { concurrency: 4 } });
    const client = app.get(TaskClient);
    const keys = app.get(TaskQueueEngine).broker.keys('default');
    const listener = raw();
    const heard: string[] = [];
    listener.on('pmessage', (_pattern: string, channel: string) => heard.push(channel));
    await listener.psubscribe(`${keys.eventPrefix}*`);

    const handles = await client.sendMany(Array.from({ length: 20 }, (_, n) => ({ name: 'watch.echo', args: [n] })));
    await app.get(TaskWorkerHost).start();
    // Read, not followed: a snapshot does not watch.
    await eventually(async () => (await Promise.all(handles.map((h) => h.state()))).every((s) => s === 'SUCCESS'));
    await sleep(100); // anything published is on its way to the listener by now

    expect(heard).toEqual([]);
    expect(await raw().exists(keys.watched)).toBe(0);
  });

  it('marks the queue while a task is followed, so its stream sees STARTED and the outcome', async () => {
    app = await bootApp([EchoTasks], { worker: { concurrency: 1 } });
    const client = app.get(TaskClient);
    const keys = app.get(TaskQueueEngine).broker.keys('default');
    const handle = await client.send('watch.echo', [7]);
    const listener = raw();
    const heard: string[] = [];
    listener.on('message', (_channel: string, message: string) => heard.push(message.split('\n')[0] ?? ''));
    await listener.subscribe(keys.events(handle.id));

    const states = lastValueFrom(handle.events$.pipe(toArray()));
    const redis = raw();
    await eventually(async () => (await redis.exists(keys.watched)) === 1);
    await app.get(TaskWorkerHost).start();

    expect((await states).map((e) => e.state)).toEqual(['PENDING', 'STARTED', 'SUCCESS']);
    expect((await states).at(-1)?.result).toBe(7);
    await eventually(() => heard.length === 2);
    expect(heard).toEqual(['STARTED', 'SUCCESS']);
  });

  it('renews the mark while held and lets it expire after the last release', async () => {
    const redis = raw();
    const key = `${uniquePrefix('watch')}:{q}:watched`;
    const watch = new QueueWatch(redis, () => key, 'test Redis', 400);
    try {
      const first = watch.hold('q', () => undefined);
      const second = watch.hold('q', () => undefined);
      await Promise.all([first.marked, second.marked]);
      expect(await redis.exists(key)).toBe(1);
      await sleep(1_000); // 2.5 TTLs: only renewals keep it
      expect(await redis.exists(key)).toBe(1);
      first.release();
      first.release(); // a second release of the same hold changes nothing
      await sleep(600);
      expect(await redis.exists(key)).toBe(1);
      second.release();
      await sleep(600);
      expect(await redis.exists(key)).toBe(0);
    } finally {
      watch.close();
    }
  });

  it('tells the followers of a queue when a renewal finds the mark gone', async () => {
    const redis = raw();
    const key = `${uniquePrefix('watch')}:{q}:watched`;
    const watch = new QueueWatch(redis, () => key, 'test Redis', 400);
    const lapses: string[] = [];
    try {
      const a = watch.hold('q', () => lapses.push('a'));
      await a.marked;
      await sleep(250);
      expect(lapses).toEqual([]);
      await redis.del(key);
      await eventually(() => lapses.length > 0, 2_000);
      expect(lapses).toEqual(['a']);
      // A new follower that finds the mark gone tells the others; it reads after its own mark.
      await redis.del(key);
      const b = watch.hold('q', () => lapses.push('b'));
      await b.marked;
      expect(lapses).toEqual(['a', 'a']);
      a.release();
      b.release();
    } finally {
      watch.close();
    }
  });

  it('a stream whose mark lapsed still sees the outcome: it reads the state again', async () => {
    app = await bootApp([EchoTasks], { worker: { concurrency: 1 } });
    const client = app.get(TaskClient);
    const keys = app.get(TaskQueueEngine).broker.keys('default');
    const handle = await client.send('watch.echo', [9]);
    let completed = false;
    const states = lastValueFrom(handle.events$.pipe(toArray())).finally(() => (completed = true));
    const redis = raw();
    await eventually(async () => (await redis.exists(keys.watched)) === 1);
    // The mark is gone (as if its renewals had failed) while the task runs: nothing is published.
    await redis.del(keys.watched);
    await app.get(TaskWorkerHost).start();
    await eventually(async () => (await handle.state()) === 'SUCCESS');
    await sleep(200);
    expect(completed).toBe(false);
    // The next mark of the queue finds it gone: the first stream reads the state again.
    const other = await client.send('watch.echo', [10]);
    const otherStates = lastValueFrom(other.events$.pipe(toArray()));
    const seen = await states;
    expect(seen.map((e) => e.state)).toEqual(['PENDING', 'SUCCESS']);
    expect(seen.at(-1)?.result).toBe(9);
    expect((await otherStates).at(-1)?.result).toBe(10);
  });
});

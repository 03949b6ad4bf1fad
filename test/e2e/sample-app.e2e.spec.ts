// The sample app as a user runs it: the API and a worker as two separate `node
// sample-app/dist/main.js` processes over the test Redis, driven over HTTP only.
// The tests run in order and share the processes: the first one starts the worker.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../scripts/redis-server.mjs';
import { testRedisUrl, uniquePrefix } from '../support/test-redis.js';

const MAIN = fileURLToPath(new URL('../../sample-app/dist/main.js', import.meta.url));

interface Proc {
  name: string;
  child: ChildProcess;
  output: string[];
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

interface Event {
  id: string;
  state: string;
  progress?: { current: number; total: number };
  result?: unknown;
}

const procs: Proc[] = [];
let base = '';
let env: NodeJS.ProcessEnv = {};

function startApp(name: string, args: string[] = []): Proc {
  const child = spawn(process.execPath, [MAIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  child.stdout?.on('data', (d: Buffer) => output.push(String(d)));
  child.stderr?.on('data', (d: Buffer) => output.push(String(d)));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const proc = { name, child, output, exit };
  procs.push(proc);
  return proc;
}

/** Its output, for failure messages: a child that misbehaves says why in its logs. */
function logsOf(proc: Proc): string {
  return `\n--- ${proc.name} output ---\n${proc.output.join('').slice(-4000)}`;
}

async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function waitForHttp(proc: Proc, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.child.exitCode !== null) throw new Error(`${proc.name} exited with ${proc.child.exitCode}${logsOf(proc)}`);
    try {
      await fetch(`${base}/tasks/ping`, { signal: AbortSignal.timeout(1_000) });
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`${proc.name} did not answer within ${timeoutMs} ms${logsOf(proc)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function post(path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(base + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(5_000),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function getTask(id: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${base}/tasks/${id}`, { signal: AbortSignal.timeout(5_000) });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

/** Reads GET /tasks/:id/events until the server ends the stream; calls onEvent as events come. */
async function followEvents(id: string, timeoutMs: number, onEvent: (e: Event) => void = () => undefined): Promise<Event[]> {
  const res = await fetch(`${base}/tasks/${id}/events`, {
    headers: { accept: 'text/event-stream' },
    signal: AbortSignal.timeout(timeoutMs),
  });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  const events: Event[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  const reader = res.body!.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const data = buffer
        .slice(0, end)
        .split('\n')
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).trimStart())
        .join('\n');
      buffer = buffer.slice(end + 2);
      if (!data) continue;
      const event = JSON.parse(data) as Event;
      events.push(event);
      onEvent(event);
    }
  }
  return events;
}

describe('sample-app e2e (API and worker processes over HTTP)', () => {
  let api: Proc;
  let worker: Proc | undefined;

  beforeAll(async () => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build && npm run build:sample\` first`);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    // The children must not inherit jest's --experimental-vm-modules; TQ_PREFIX keeps this run's
    // keys apart from every other test's in the shared Redis.
    const { NODE_OPTIONS: _ignored, ...rest } = process.env;
    env = { ...rest, REDIS_URL: testRedisUrl(), TQ_PREFIX: uniquePrefix('e2e'), PORT: String(port), NO_COLOR: '1' };
    api = startApp('api');
    await waitForHttp(api);
  }, 30_000);

  afterAll(async () => {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
    await Promise.all(
      procs.map(async (p) => {
        const timer = setTimeout(() => p.child.kill('SIGKILL'), 5_000);
        await p.exit;
        clearTimeout(timer);
      }),
    );
  }, 15_000);

  it('the API alone only sends: a task stays PENDING until a worker process runs it', async () => {
    const sent = await post('/tasks/add', { x: 5, y: 3 });
    expect(sent.status).toBe(202);
    const id = sent.json.id as string;
    expect(typeof id).toBe('string');

    await new Promise((r) => setTimeout(r, 1_000));
    expect(await getTask(id)).toMatchObject({ id, state: 'PENDING', result: null });

    worker = startApp('worker', ['--worker']);
    const events = await within(followEvents(id, 20_000), 20_000, 'events of the queued add').catch((err: Error) => {
      throw new Error(err.message + logsOf(worker!));
    });
    expect(events.at(-1)).toMatchObject({ id, state: 'SUCCESS', result: 8 });
    expect(await getTask(id)).toMatchObject({ id, state: 'SUCCESS', result: 8, error: null });
  }, 30_000);

  it('add(5, 3): GET /tasks/:id shows SUCCESS with result 8', async () => {
    const { status, json } = await post('/tasks/add', { x: 5, y: 3 });
    expect(status).toBe(202);
    const id = json.id as string;
    // Polling is fine in a test; the app itself pushes (see the events endpoint).
    const deadline = Date.now() + 10_000;
    let task = await getTask(id);
    while (task.state !== 'SUCCESS' && task.state !== 'FAILURE' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      task = await getTask(id);
    }
    expect(task).toEqual({ id, state: 'SUCCESS', progress: null, result: 8, error: null });
  }, 15_000);

  it('long_running_task(2): the SSE stream shows STARTED, PROGRESS 1/2, PROGRESS 2/2, SUCCESS', async () => {
    const { status, json } = await post('/tasks/long', { seconds: 2 });
    expect(status).toBe(202);
    const id = json.id as string;
    const events = await followEvents(id, 15_000);
    // The stream starts with the state at subscription: PENDING if the worker has not taken it yet.
    const seen = events
      .filter((e) => e.state !== 'PENDING')
      .map((e) => (e.state === 'PROGRESS' ? `PROGRESS ${e.progress?.current}/${e.progress?.total}` : e.state));
    expect(seen).toEqual(['STARTED', 'PROGRESS 1/2', 'PROGRESS 2/2', 'SUCCESS']);
    expect(events.at(-1)).toEqual({ id, state: 'SUCCESS', result: 'Task completed after 2 seconds!' });
    expect(await getTask(id)).toMatchObject({
      state: 'SUCCESS',
      progress: { current: 2, total: 2 },
      result: 'Task completed after 2 seconds!',
    });
  }, 20_000);

  it('an unknown id reads as PENDING', async () => {
    const id = 'no-such-task-' + uniquePrefix();
    expect(await getTask(id)).toEqual({ id, state: 'PENDING', progress: null, result: null, error: null });
  });

  it('rejects bodies that are not numbers with 400', async () => {
    expect((await post('/tasks/add', { x: '5', y: 3 })).status).toBe(400);
    expect((await post('/tasks/add', {})).status).toBe(400);
    expect((await post('/tasks/long', { seconds: -1 })).status).toBe(400);
    expect((await post('/tasks/long', { seconds: 1.5 })).status).toBe(400);
  });

  it('the worker finishes its running task on SIGTERM, then exits with code 0', async () => {
    expect(worker).toBeDefined();
    const w = worker!;
    const { json } = await post('/tasks/long', { seconds: 2 });
    const id = json.id as string;
    let signalled = false;
    const events = await followEvents(id, 15_000, (e) => {
      // Stop the worker while the task runs: it must drain it rather than drop or abort it.
      if ((e.state === 'STARTED' || e.state === 'PROGRESS') && !signalled) {
        signalled = true;
        w.child.kill('SIGTERM');
      }
    });
    expect(signalled).toBe(true);
    expect(events.at(-1)).toMatchObject({ state: 'SUCCESS', result: 'Task completed after 2 seconds!' });
    const exit = await within(w.exit, 15_000, 'worker exit after SIGTERM');
    expect({ ...exit, logs: exit.code === 0 ? '' : logsOf(w) }).toEqual({ code: 0, signal: null, logs: '' });
  }, 30_000);

  it('the API stops on SIGTERM', async () => {
    api.child.kill('SIGTERM');
    const exit = await within(api.exit, 10_000, 'API exit after SIGTERM');
    // Nest's shutdown hooks close the app, then re-raise the signal.
    expect(exit.code === 0 || exit.signal === 'SIGTERM').toBe(true);
  }, 15_000);
});

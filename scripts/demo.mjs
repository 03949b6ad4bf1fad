// `npm run demo`: the sample app end to end, as two processes over one Redis.
// Starts a private redis-server (unless REDIS_URL is set), the API (`node sample-app/dist/main.js`)
// and one worker (`... --worker`), sends add(5, 3) and a 5-second long task over HTTP, follows
// the long task's progress over Server-Sent Events, then stops everything with SIGTERM.
// Plain Node on purpose: the demo needs neither the nest CLI nor a TypeScript loader at runtime.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { freePort, hasRedisServer, INSTALL_HINT, startRedisServer } from './redis-server.mjs';

const MAIN = fileURLToPath(new URL('../sample-app/dist/main.js', import.meta.url));
const DEADLINE_MS = 50_000;
const LONG_SECONDS = 5;

const children = [];
let redis;
let cleaningUp;
let interrupted = false;

const say = (line) => console.log(`[demo] ${line}`);

async function main() {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build && npm run build:sample\` first`);

  let redisUrl = process.env.REDIS_URL;
  if (!redisUrl) {
    if (!hasRedisServer()) {
      console.error(INSTALL_HINT);
      process.exit(1);
    }
    redis = await startRedisServer();
    redisUrl = redis.url;
    say(`started a private redis-server at ${redisUrl}`);
  } else {
    say(`using REDIS_URL=${redisUrl}`);
  }

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    REDIS_URL: redisUrl,
    PORT: String(port),
    // Nest colours its logs even into a pipe; keep them only when a person watches a terminal.
    ...(process.stdout.isTTY ? {} : { NO_COLOR: '1' }),
  };
  const api = start('api', [MAIN], env);
  const worker = start('worker', [MAIN, '--worker'], env);

  await waitForHttp(`${base}/tasks/ping`, api, 15_000);
  say(`API is up on ${base}`);

  const add = await postJson(`${base}/tasks/add`, { x: 5, y: 3 });
  say(`POST /tasks/add {x:5,y:3} -> id ${add.id}`);
  const long = await postJson(`${base}/tasks/long`, { seconds: LONG_SECONDS });
  say(`POST /tasks/long {seconds:${LONG_SECONDS}} -> id ${long.id}`);

  // Both streams end by themselves after the task's final state.
  const [addFinal, longFinal] = await Promise.all([
    followEvents(`${base}/tasks/${add.id}/events`, () => undefined),
    followEvents(`${base}/tasks/${long.id}/events`, (e) => {
      if (e.state === 'PROGRESS') say(`PROGRESS ${e.progress.current}/${e.progress.total}`);
      else say(`long task is ${e.state}`);
    }),
  ]);
  if (addFinal.state !== 'SUCCESS' || longFinal.state !== 'SUCCESS') {
    throw new Error(`tasks ended as ${addFinal.state} / ${longFinal.state}: ${JSON.stringify([addFinal, longFinal])}`);
  }
  const snapshot = await (await fetch(`${base}/tasks/${add.id}`)).json();
  say(`GET /tasks/${add.id} -> ${JSON.stringify(snapshot)}`);
  say(`RESULT add(5, 3) = ${JSON.stringify(addFinal.result)}`);
  say(`RESULT long_running_task(${LONG_SECONDS}) = ${JSON.stringify(longFinal.result)}`);

  say('stopping the worker and the API with SIGTERM');
  const [workerExit, apiExit] = await Promise.all([stop(worker), stop(api)]);
  if (workerExit.code !== 0) throw new Error(`the worker exited with ${describeExit(workerExit)}, expected code 0`);
  // Nest's shutdown hooks re-raise the signal after closing, so the API ends "by SIGTERM".
  if (apiExit.code !== 0 && apiExit.signal !== 'SIGTERM') throw new Error(`the API exited with ${describeExit(apiExit)}`);
  say(`worker exited with ${describeExit(workerExit)}, API with ${describeExit(apiExit)}`);
}

/** Spawns `node args` with its output line by line behind a [name] prefix. */
function start(name, args, env) {
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.label = name;
  child.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => console.log(`[${name}] ${line}`));
  }
  children.push(child);
  return child;
}

async function stop(child, timeoutMs = 20_000) {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const exit = await child.exited;
  clearTimeout(timer);
  return exit;
}

function describeExit({ code, signal }) {
  return code !== null ? `code ${code}` : `signal ${signal}`;
}

/** Any HTTP answer means the server listens (the id is unknown, so it answers PENDING). */
async function waitForHttp(url, child, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the ${child.label} process exited with code ${child.exitCode}`);
    try {
      await fetch(url);
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function postJson(url, body) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST ${url} answered ${res.status}: ${text}`);
  return JSON.parse(text);
}

/** Reads a text/event-stream until the server ends it; returns the last event. */
async function followEvents(url, onEvent) {
  const res = await fetch(url, { headers: { accept: 'text/event-stream' } });
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}`);
  const decoder = new TextDecoder();
  let buffer = '';
  let last;
  for await (const chunk of res.body) {
    buffer += decoder.decode(chunk, { stream: true });
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = block
        .split('\n')
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).trimStart())
        .join('\n');
      if (!data) continue;
      last = JSON.parse(data);
      onEvent(last);
    }
  }
  if (!last) throw new Error(`${url} ended without an event`);
  return last;
}

/** Kills whatever is still running and stops Redis; safe to call more than once. */
function cleanup() {
  return (cleaningUp ??= (async () => {
    await Promise.all(children.map((c) => stop(c, 5_000)));
    await redis?.stop();
  })());
}

// Ctrl+C or a kill of the demo must not leave the API, the worker or Redis behind; a second
// signal stops waiting for them to finish and kills them outright.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (interrupted) {
      for (const c of children) c.kill('SIGKILL');
      redis?.stop();
      process.exit(1);
    }
    interrupted = true;
    say(`${signal}: stopping the API, the worker and Redis`);
    cleanup().finally(() => process.exit(1));
  });
}

const watchdog = setTimeout(() => {
  say(`FAILED: the demo did not finish within ${DEADLINE_MS / 1000} s`);
  cleanup().finally(() => process.exit(1));
}, DEADLINE_MS);

main().then(
  async () => {
    await cleanup();
    clearTimeout(watchdog);
    say('OK');
    process.exit(0);
  },
  async (err) => {
    if (interrupted) return; // the signal handler reports and exits
    say(`FAILED: ${err?.message ?? err}`);
    await cleanup();
    process.exit(1);
  },
);

#!/usr/bin/env node
// node bench/redis-instructions.mjs [--lib-source=worktree|head|dist|<folder>] [N]
//
// How many instructions Redis runs per task on nestjs-taskqueue's hot path, counted by valgrind
// (callgrind) on a private redis-server: to enqueue (batches of 64, as single sends are sent),
// and to fetch and commit (batches of 50, each fetch carrying the previous batch's outcomes, as
// a busy worker does), with results kept and dropped; and one task at a time, as on an idle
// worker: woken (send, wake-up, fetch of one, commit alone: a worker of several queues) and
// handed over (send that hands the task to the idle worker, its BLPOP, commit alone that
// registers it idle again: a worker of one queue, the Redis side of the latency figure). Not
// timed, and not part of `npm run bench`: a count does not move with the machine's load, so it
// shows a change to a Lua script that the timed figures would hide in their noise (the same build
// counts the same within a fraction of a percent). It drives the library's Broker directly: no worker process, no Nest.
// Needs valgrind and redis-server on PATH (Debian: apt-get install valgrind redis-server).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { buildLib } from './lib/build-lib.mjs';
import { makePayload } from './lib/payload.mjs';
import { freePort } from '../scripts/redis-server.mjs';

const args = process.argv.slice(2);
const source = args.find((a) => a.startsWith('--lib-source='))?.split('=')[1] ?? 'worktree';
const n = Number(args.find((a) => /^\d+$/.test(a)) ?? 5000);
for (const tool of ['valgrind', 'redis-server']) {
  if (spawnSync(tool, ['--version']).status !== 0) throw new Error(`${tool} is not on PATH (Debian: apt-get install ${tool})`);
}

const built = buildLib(source);
const { Broker } = await import(new URL('broker/broker.js', new URL('.', built.entry)).href);
const port = await freePort();
const dir = mkdtempSync(join(tmpdir(), 'tq-callgrind-'));
const server = spawn(
  'valgrind',
  ['--tool=callgrind', `--callgrind-out-file=${dir}/cg.%p`, '--dump-instr=no', '--compress-strings=no',
    'redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
  { stdio: 'ignore' },
);
const stopServer = () => server.exitCode === null && server.kill('SIGKILL');
process.on('exit', stopServer);
await waitForPort(port, 60_000);
const admin = new Redis({ port, host: '127.0.0.1' });
const redis = new Redis({ port, host: '127.0.0.1', enableAutoPipelining: false });

/** Instructions run since the last call (callgrind dumps its counters and starts again). */
function instructionsSinceLast() {
  spawnSync('callgrind_control', ['--dump', String(server.pid)], { stdio: 'ignore', timeout: 30_000 });
  let total = 0;
  for (const file of readdirSync(dir)) {
    const summary = /^summary:\s+(\d+)/m.exec(readFileSync(join(dir, file), 'utf8'));
    if (summary) total += Number(summary[1]);
    rmSync(join(dir, file));
  }
  return total;
}

const results = [];
try {
  for (const keep of [true, false]) {
    await admin.flushall();
    await admin.script('FLUSH');
    const broker = new Broker(redis, 'tq');
    await broker.loadScripts();
    const task = keep ? 'BenchTasks.noop' : 'BenchTasks.noopDropResult';
    const ct = Date.now();
    instructionsSinceLast();
    for (let i = 0; i < n; i += 64) {
      const items = [];
      for (let j = i; j < Math.min(i + 64, n); j++) {
        const id = randomBytes(16).toString('base64url');
        const body = JSON.stringify({ v: 1, id, task, args: [makePayload(j)], queue: 'bench', attempt: 1, ct, headers: {} });
        items.push({ id, body, due: 0, task, newId: true });
      }
      await broker.enqueue('bench', items);
    }
    const enqueue = instructionsSinceLast();
    const lease = { leaseMs: 600_000, workerId: 'bench-host:12345:abcdef', maxDeliveries: 5, resultTtlSec: 86_400 };
    const sent = { reply: '', name: task, createdAt: String(ct) };
    const commits = [];
    let done = 0;
    for (;;) {
      const { tasks } = await broker.fetch('bench', 50, lease, false);
      for (const t of tasks) commits.push(broker.complete(t, { state: 'SUCCESS', resultJson: 'null' }, 86_400, sent, !keep));
      done += tasks.length;
      if (tasks.length === 0) break;
    }
    await Promise.all(commits);
    const processing = instructionsSinceLast();
    if (done !== n) throw new Error(`${done} tasks fetched, expected ${n}`);
    // One task at a time, as on an idle worker (the latency path): a send, the wake-up it
    // pushes taken by the worker's BLPOP, a fetch of one, its commit alone.
    const single = Math.min(n, 1_000);
    const wake = broker.keys('bench').wake;
    await redis.del(wake);
    instructionsSinceLast();
    for (let i = 0; i < single; i++) {
      const id = randomBytes(16).toString('base64url');
      const body = JSON.stringify({ v: 1, id, task, args: [makePayload(i)], queue: 'bench', attempt: 1, ct, headers: {} });
      await broker.enqueue('bench', [{ id, body, due: 0, task, newId: true }]);
      if (!(await redis.blpop(wake, 1))) throw new Error('no wake-up marker after a send');
      const { tasks } = await broker.fetch('bench', 1, lease, false);
      if (tasks.length !== 1) throw new Error(`a fetch of one gave ${tasks.length} tasks`);
      await broker.complete(tasks[0], { state: 'SUCCESS', resultJson: 'null' }, 86_400, sent, !keep);
    }
    const oneByOne = instructionsSinceLast();
    // The same, as on an idle worker of one queue: its send hands the task over (see enqueue.lua),
    // the worker's BLPOP takes it from its hand-off list, and its commit goes alone and registers
    // it idle again (no fetch). Builds without hand-offs have no handBack.
    let handedOver = null;
    if (typeof broker.handBack === 'function') {
      const idleLease = { ...lease, idleMs: 60_000 };
      const handOffKey = broker.keys('bench').handOff(lease.workerId);
      await broker.fetch('bench', 1, idleLease, false);
      instructionsSinceLast();
      for (let i = 0; i < single; i++) {
        const id = randomBytes(16).toString('base64url');
        const body = JSON.stringify({ v: 1, id, task, args: [makePayload(i)], queue: 'bench', attempt: 1, ct, headers: {} });
        await broker.enqueue('bench', [{ id, body, due: 0, task, newId: true }]);
        const popped = await redis.blpop(handOffKey, 1);
        if (!popped || !popped[1].startsWith(`${id}\n`)) throw new Error('the send was not handed to the idle worker');
        const done = broker.complete({ queue: 'bench', id, body, token: `${lease.workerId}:1`, delivery: 1, retries: 0, reservation: 0 },
          { state: 'SUCCESS', resultJson: 'null' }, 86_400, sent, !keep);
        broker.flushCompletions({ queue: 'bench', workerId: lease.workerId, leaseMs: lease.leaseMs, idleMs: 60_000 });
        if (!(await done)) throw new Error('the commit of a hand-off failed');
      }
      handedOver = instructionsSinceLast() / single;
    }
    results.push({ keep, enqueue: enqueue / n, processing: processing / n, oneByOne: oneByOne / single, handedOver });
  }
} finally {
  admin.disconnect();
  redis.disconnect();
  stopServer();
  rmSync(dir, { recursive: true, force: true });
}

process.stdout.write(`Redis instructions per task (callgrind), ${n.toLocaleString('en-US')} tasks, ${built.label}:\n`);
for (const r of results) {
  process.stdout.write(
    `  results ${r.keep ? 'kept   ' : 'dropped'}: enqueue ${(r.enqueue / 1000).toFixed(1)}k, fetch + commit ${(r.processing / 1000).toFixed(1)}k; ` +
      `one at a time (send, wake-up, fetch, commit) ${(r.oneByOne / 1000).toFixed(1)}k` +
      (r.handedOver === null ? '' : `; handed over (send, hand-off, commit) ${(r.handedOver / 1000).toFixed(1)}k`) +
      '\n',
  );
}

function waitForPort(port, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (server.exitCode !== null) return reject(new Error('redis-server under valgrind exited'));
      if (Date.now() > deadline) return reject(new Error(`redis-server under valgrind did not listen within ${timeoutMs} ms`));
      const socket = createConnection({ port, host: '127.0.0.1' });
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        setTimeout(attempt, 200);
      });
    };
    attempt();
  });
}

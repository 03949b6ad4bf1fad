// One role of one measurement, in a fresh Node process driven by bench/run.mjs over IPC.
//
//   parent -> { role, lib, ... }        child loads the library, answers { type: 'ready' }
//   parent -> { cmd: 'go' }             the measured part starts
//   child  -> { type: 'progress' | 'started' | 'result', ... }
//   parent -> { cmd: 'finish' }         (workers) report counters and close
//   parent -> { cmd: 'exit' }           close and exit
//
// A child whose parent disappears exits at once (the IPC channel closes): no orphans.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { makePayload } from './payload.mjs';
import { installWireCounter } from './wire-count.mjs';

process.on('disconnect', () => process.exit(3));
const send = (m) => process.connected && process.send(m);
const now = () => performance.timeOrigin + performance.now();
const fail = (err) => {
  send({ type: 'error', message: err && err.stack ? err.stack : String(err) });
  setTimeout(() => process.exit(1), 200);
};
process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);

const nextCommand = (() => {
  const queue = [];
  const waiters = [];
  process.on('message', (m) => {
    const w = waiters.shift();
    if (w) w(m);
    else queue.push(m);
  });
  return () => (queue.length ? Promise.resolve(queue.shift()) : new Promise((r) => waiters.push(r)));
})();

async function expect(cmd) {
  const m = await nextCommand();
  if (m.cmd === 'exit') process.exit(0);
  if (m.cmd !== cmd) throw new Error(`expected "${cmd}", got ${JSON.stringify(m)}`);
  return m;
}

const roles = {
  /** Enqueue N tasks one call at a time, `inflight` calls outstanding. */
  async 'enqueue-one'(adapter, s) {
    const producer = await adapter.createProducer(s);
    send({ type: 'ready' });
    await expect('go');
    const cpu0 = process.cpuUsage();
    const t0 = now();
    let next = 0;
    const lane = async () => {
      while (next < s.n) await producer.sendOne(makePayload(next++));
    };
    await Promise.all(Array.from({ length: s.inflight }, lane));
    const ms = now() - t0;
    send({ type: 'result', ms, cpuUs: cpuSince(cpu0) });
    await producer.close();
  },

  /** Enqueue N tasks in sequential chunks with the library's bulk call. */
  async 'enqueue-bulk'(adapter, s) {
    const producer = await adapter.createProducer(s);
    send({ type: 'ready' });
    await expect('go');
    const cpu0 = process.cpuUsage();
    const t0 = now();
    for (let i = 0; i < s.n; i += s.chunk) {
      const chunk = [];
      for (let j = i; j < Math.min(s.n, i + s.chunk); j++) chunk.push(makePayload(j));
      await producer.sendBulk(chunk);
    }
    const ms = now() - t0;
    send({ type: 'result', ms, cpuUs: cpuSince(cpu0) });
    await producer.close();
  },

  /** Send one task, wait for its completion, send the next; report each latency. */
  async latency(adapter, s) {
    const wire = s.wire ? installWireCounter(s.port) : undefined;
    const producer = await adapter.createProducer({ ...s, events: true });
    send({ type: 'ready' });
    await expect('go');
    const samples = [];
    for (let i = 0; i < s.warmup + s.count; i++) {
      const t0 = now();
      await producer.sendAndWait(makePayload(i), 10_000);
      if (i >= s.warmup) samples.push(now() - t0);
    }
    send({ type: 'result', samples, wire });
    await producer.close();
  },

  /** A worker: processes until told to finish, counting every run of every task. */
  async worker(adapter, s) {
    const wire = s.wire ? installWireCounter(s.port) : undefined;
    await adapter.preload();
    // The library and what it needs (Nest, for ours) loaded, nothing connected yet.
    const loadedRssKb = vmHwmKb();
    const seen = new Uint8Array(s.n);
    let count = 0;
    let outOfRange = 0;
    let firstAt = 0;
    let lastAt = 0;
    let cpuStart;
    let cpuEnd;
    const onTask = (p) => {
      const t = now();
      if (count === 0) {
        firstAt = t;
        cpuStart = process.cpuUsage();
      }
      count++;
      lastAt = t;
      const seq = p && p.seq;
      if (Number.isInteger(seq) && seq >= 0 && seq < s.n) {
        if (seen[seq] < 255) seen[seq]++;
      } else outOfRange++;
    };
    send({ type: 'ready' });
    await expect('go');
    const profiler = s.profileFile ? await startProfiler() : undefined;
    const startedAt = now();
    const worker = await adapter.startWorker({ ...s, onTask });
    send({ type: 'started', at: now(), bootMs: now() - startedAt, rssKb: vmHwmKb(), loadedRssKb });
    // Report progress; the CPU figure ends at the last tick that saw new work.
    let reported = 0;
    const tick = setInterval(() => {
      if (count !== reported) {
        reported = count;
        cpuEnd = process.cpuUsage();
        send({ type: 'progress', count });
      }
    }, 25);
    await expect('finish');
    clearInterval(tick);
    if (profiler) await profiler.stopInto(s.profileFile);
    if (count !== reported) cpuEnd = process.cpuUsage();
    const cpuUs = cpuStart && cpuEnd ? cpuEnd.user - cpuStart.user + cpuEnd.system - cpuStart.system : 0;
    send({
      type: 'result',
      count,
      outOfRange,
      seen: Buffer.from(seen.buffer).toString('base64'),
      firstAt,
      lastAt,
      cpuUs,
      peakRssKb: vmHwmKb(),
      rssNowKb: Math.round(process.memoryUsage().rss / 1024),
      wire,
    });
    await worker.close();
  },
};

function cpuSince(start) {
  const d = process.cpuUsage(start);
  return d.user + d.system;
}

/** The V8 sampling profiler of this process, from 'go' to 'finish' (module loading left out). */
async function startProfiler() {
  const { Session } = await import('node:inspector');
  const { writeFileSync } = await import('node:fs');
  const session = new Session();
  session.connect();
  const post = (method, params) =>
    new Promise((resolve, reject) => session.post(method, params, (err, res) => (err ? reject(err) : resolve(res))));
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 200 });
  await post('Profiler.start');
  return {
    async stopInto(file) {
      const { profile } = await post('Profiler.stop');
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}

function vmHwmKb() {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

async function main() {
  const init = await nextCommand();
  const adapter = await import(new URL(`../adapters/${init.lib}.mjs`, import.meta.url));
  const role = roles[init.role];
  if (!role) throw new Error(`unknown role ${init.role}`);
  await role(adapter, init);
  send({ type: 'closed' });
  // Wait to be told to go: the parent reads Redis before the next step.
  await expect('exit');
}

main().then(
  () => process.exit(0),
  (err) => fail(err),
);

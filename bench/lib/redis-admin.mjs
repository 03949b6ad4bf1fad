// The bench's one private redis-server (no persistence, free loopback port) and the admin
// connection that resets and reads it between measurements. Nothing here talks to any other Redis.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { trackPid } from './procs.mjs';

/** Starts redis-server (scripts/redis-server.mjs) inside a guardian process that outlives nothing. */
function startGuarded() {
  const guardian = fork(fileURLToPath(new URL('./redis-guardian.mjs', import.meta.url)), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const untrackGuardian = trackPid(guardian.pid);
  const exited = new Promise((resolve) => guardian.once('exit', resolve));
  return new Promise((resolve, reject) => {
    guardian.once('exit', (code) => reject(new Error(`the redis-server guardian exited (${code})`)));
    guardian.once('message', (m) => {
      if (m.error) return reject(new Error(m.error));
      resolve({
        ...m,
        async stop() {
          guardian.send('stop');
          const timer = setTimeout(() => guardian.kill('SIGKILL'), 10_000);
          await exited;
          clearTimeout(timer);
          untrackGuardian();
        },
      });
    });
  });
}

export async function startPrivateRedis() {
  // scripts/redis-server.mjs already passes --save '' --appendonly no and --bind 127.0.0.1.
  const server = await startGuarded();
  const admin = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 2, connectionName: 'bench-admin' });
  await admin.connect();
  const info = parseInfo(await admin.info('server'));
  const untrack = trackPid(Number(info.process_id));
  return {
    url: server.url,
    port: server.port,
    version: info.redis_version,
    admin,
    async stop() {
      admin.disconnect();
      await server.stop();
      untrack();
    },
  };
}

/** Empties our private server: data, cached scripts, and the stats we read. */
export async function resetRedis(admin) {
  await admin.flushall();
  await admin.script('FLUSH');
  await admin.config('RESETSTAT');
}

export function parseInfo(text) {
  const out = {};
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

/** Seconds of CPU the redis-server process used so far (user + sys). */
export async function redisCpuSec(admin) {
  const i = parseInfo(await admin.info('cpu'));
  return Number(i.used_cpu_sys) + Number(i.used_cpu_user);
}

export async function usedMemory(admin) {
  return Number(parseInfo(await admin.info('memory')).used_memory);
}

/** { command: calls } since the last CONFIG RESETSTAT, without the bench's own admin commands. */
export async function commandCalls(admin) {
  const raw = parseInfo(await admin.info('commandstats'));
  const calls = {};
  for (const [key, value] of Object.entries(raw)) {
    if (!key.startsWith('cmdstat_')) continue;
    const name = key.slice('cmdstat_'.length);
    if (name === 'info' || name.startsWith('config')) continue;
    const m = /calls=(\d+)/.exec(value);
    if (m) calls[name] = Number(m[1]);
  }
  return calls;
}

/** Counts keys matching a pattern (SCAN, on our private server only). */
export async function countKeys(admin, pattern) {
  let cursor = '0';
  let n = 0;
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', pattern, 'COUNT', 5000);
    cursor = next;
    n += keys.length;
  } while (cursor !== '0');
  return n;
}

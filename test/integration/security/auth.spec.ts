// Security: Redis AUTH. A private redis-server whose default user is off and whose only user
// is an ACL user with a password, and one protected by requirepass (the default user's
// password). The module boots on it, a worker runs tasks end to end, and the lease-keeper
// thread (its own Redis connection, opened from the same connection spec) authenticates too.
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { TestingModule } from '@nestjs/testing';
import { Redis } from 'ioredis';
import { createConnection } from 'node:net';
import { TaskWorkerHost } from '../../../lib/index.js';
import { startPrivateRedis, type PrivateRedis } from '../../support/private-redis.js';
import { uniquePrefix } from '../../support/test-redis.js';
import { bootSecureApp, client, clientList, runSlowTaskUnderShortLease } from './fixtures.js';

const USER = 'app';
const PASSWORD = 's3cret-pw-auth-7f3a';

describe('Redis AUTH with an ACL user (default user off)', () => {
  let server: PrivateRedis;
  let admin: Redis;
  let moduleRef: TestingModule | undefined;

  beforeAll(async () => {
    server = await startPrivateRedis({
      args: ['--user', 'default', 'off', '--user', USER, 'on', `>${PASSWORD}`, '~*', '&*', '+@all'],
    });
    admin = new Redis({ host: '127.0.0.1', port: server.port, username: USER, password: PASSWORD, lazyConnect: true });
    await admin.connect();
  });
  afterEach(async () => {
    await moduleRef?.close();
    moduleRef = undefined;
  });
  afterAll(async () => {
    admin?.disconnect();
    await server?.dispose();
  });

  it('the server really refuses unauthenticated clients', async () => {
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = createConnection({ host: '127.0.0.1', port: server.port }, () => socket.write('PING\r\n'));
      socket.once('data', (d) => {
        socket.destroy();
        resolve(String(d));
      });
      socket.once('error', reject);
    });
    expect(reply).toMatch(/^-NOAUTH/);
  });

  it('boots and runs a task end to end with redis://user:password@host:port/db', async () => {
    moduleRef = await bootSecureApp({ connection: `redis://${USER}:${PASSWORD}@127.0.0.1:${server.port}/0` });
    await moduleRef.get(TaskWorkerHost).start();
    const handle = await client(moduleRef).send('sec.add', [20, 22]);
    await expect(handle.result({ timeout: 5_000 })).resolves.toBe(42);
    // Every connection the app opened is authenticated as the ACL user.
    const ours = (await clientList(admin)).filter((c) => c.name.startsWith('tq:'));
    expect(ours.length).toBeGreaterThanOrEqual(3);
    expect(ours.every((c) => c.user === USER)).toBe(true);
  });

  it('boots and runs a task end to end with ioredis options { host, port, username, password }', async () => {
    moduleRef = await bootSecureApp({
      connection: { host: '127.0.0.1', port: server.port, username: USER, password: PASSWORD, db: 2 },
    });
    await moduleRef.get(TaskWorkerHost).start();
    const handle = await client(moduleRef).send('sec.add', [1, 2]);
    await expect(handle.result({ timeout: 5_000 })).resolves.toBe(3);
  });

  it.each([
    ['a URL', () => `redis://${USER}:${PASSWORD}@127.0.0.1:${server.port}/0`],
    ['an options object', () => ({ host: '127.0.0.1', port: server.port, username: USER, password: PASSWORD })],
  ])(
    'with %s, the lease-keeper thread authenticates: a 1.5 s task under a 1 s lease runs exactly once',
    async (_form, connection) => {
      const prefix = uniquePrefix('sec');
      moduleRef = await bootSecureApp({ connection: connection(), prefix, worker: { leaseMs: 1_000 } });
      await moduleRef.get(TaskWorkerHost).start();
      const run = await runSlowTaskUnderShortLease(moduleRef, admin, prefix);
      expect(run.result).toMatch(/attempt 1$/);
      expect(run.runs).toBe(1);
      expect(run.deliveries).toBe(1);
      // The deadline moved forward while the task ran: someone renewed the lease...
      expect(run.deadlines.length).toBeGreaterThan(5);
      expect(Math.max(...run.deadlines)).toBeGreaterThan(Math.min(...run.deadlines) + 300);
      // ...and that someone is the lease-keeper thread's connection, logged in as the ACL user.
      const leases = (await clientList(admin)).filter((c) => c.name === 'tq:leases');
      expect(leases).toHaveLength(1);
      expect(leases[0]?.user).toBe(USER);
    },
    20_000,
  );
});

describe('Redis AUTH with requirepass (the default user)', () => {
  let server: PrivateRedis;
  let admin: Redis;
  let moduleRef: TestingModule | undefined;

  beforeAll(async () => {
    server = await startPrivateRedis({ args: ['--requirepass', PASSWORD] });
    admin = new Redis({ host: '127.0.0.1', port: server.port, password: PASSWORD, lazyConnect: true });
    await admin.connect();
  });
  afterEach(async () => {
    await moduleRef?.close();
    moduleRef = undefined;
  });
  afterAll(async () => {
    admin?.disconnect();
    await server?.dispose();
  });

  it.each([
    ['redis://:password@', () => `redis://:${PASSWORD}@127.0.0.1:${server.port}/0`],
    ['redis://default:password@', () => `redis://default:${PASSWORD}@127.0.0.1:${server.port}/0`],
    ['{ password }', () => ({ host: '127.0.0.1', port: server.port, password: PASSWORD })],
  ])('boots and runs a task end to end with %s', async (_form, connection) => {
    moduleRef = await bootSecureApp({ connection: connection() });
    await moduleRef.get(TaskWorkerHost).start();
    const handle = await client(moduleRef).send('sec.add', [5, 6]);
    await expect(handle.result({ timeout: 5_000 })).resolves.toBe(11);
  });

  it(
    'the lease-keeper thread authenticates with the default user\'s password too',
    async () => {
      const prefix = uniquePrefix('sec');
      moduleRef = await bootSecureApp({
        connection: `redis://:${PASSWORD}@127.0.0.1:${server.port}/0`,
        prefix,
        worker: { leaseMs: 1_000 },
      });
      await moduleRef.get(TaskWorkerHost).start();
      const run = await runSlowTaskUnderShortLease(moduleRef, admin, prefix);
      expect(run.runs).toBe(1);
      expect(run.deliveries).toBe(1);
      expect(Math.max(...run.deadlines)).toBeGreaterThan(Math.min(...run.deadlines) + 300);
      expect((await clientList(admin)).filter((c) => c.name === 'tq:leases')).toHaveLength(1);
    },
    20_000,
  );
});

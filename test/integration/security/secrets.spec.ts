// Security: a wrong password or user fails startup with a typed error, and no password ever
// reaches an error or a log line: not at a failed startup, not while Redis is away and the
// clients log their reconnects, not when they come back. Everything the process logs is
// captured (the Nest logger, console.*, raw stdout/stderr writes, worker threads included).
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { TestingModule } from '@nestjs/testing';
import { Redis } from 'ioredis';
import { RedisUnavailableError, TaskQueueError, TaskWorkerHost, type TaskQueueModuleOptions } from '../../../lib/index.js';
import { startPrivateRedis, type PrivateRedis } from '../../support/private-redis.js';
import { eventually, uniquePrefix } from '../../support/test-redis.js';
import {
  bootSecureApp,
  captureOutput,
  client,
  clientList,
  errorText,
  expectNoSecret,
  runSlowTaskUnderShortLease,
  sleep,
} from './fixtures.js';

const USER = 'app';
const PASSWORD = 's3cret-pw-leak-91c2';
const WRONG = 'wr0ng-pw-leak-5d8e';
const SECRETS = [PASSWORD, WRONG];
const aclArgs = ['--user', 'default', 'off', '--user', USER, 'on', `>${PASSWORD}`, '~*', '&*', '+@all'];

type Connection = TaskQueueModuleOptions['connection'];

describe('wrong credentials fail startup with a typed error, and no password is shown', () => {
  let acl: PrivateRedis;
  let requirepass: PrivateRedis;
  let aclAdmin: Redis;
  let capture: ReturnType<typeof captureOutput> | undefined;
  let moduleRef: TestingModule | undefined;

  beforeAll(async () => {
    [acl, requirepass] = await Promise.all([
      startPrivateRedis({ args: aclArgs }),
      startPrivateRedis({ args: ['--requirepass', PASSWORD] }),
    ]);
    aclAdmin = new Redis({ host: '127.0.0.1', port: acl.port, username: USER, password: PASSWORD, lazyConnect: true });
    await aclAdmin.connect();
  });
  afterEach(async () => {
    capture?.restore();
    capture = undefined;
    await moduleRef?.close();
    moduleRef = undefined;
  });
  afterAll(async () => {
    aclAdmin?.disconnect();
    await Promise.all([acl?.dispose(), requirepass?.dispose()]);
  });

  const cases: [string, () => Connection, () => PrivateRedis][] = [
    ['ACL user, wrong password, URL', () => `redis://${USER}:${WRONG}@127.0.0.1:${acl.port}/0`, () => acl],
    ['ACL: unknown user with the right password, URL', () => `redis://intruder:${PASSWORD}@127.0.0.1:${acl.port}/0`, () => acl],
    ['ACL user, wrong password, options object', () => ({ host: '127.0.0.1', port: acl.port, username: USER, password: WRONG }), () => acl],
    ['ACL: no credentials at all (default user is off)', () => `redis://127.0.0.1:${acl.port}/0`, () => acl],
    ['requirepass, wrong password, URL', () => `redis://:${WRONG}@127.0.0.1:${requirepass.port}/0`, () => requirepass],
    ['requirepass, wrong password, options object', () => ({ host: '127.0.0.1', port: requirepass.port, password: WRONG }), () => requirepass],
    ['requirepass, no password', () => ({ host: '127.0.0.1', port: requirepass.port }), () => requirepass],
  ];

  it.each(cases)('%s', async (_case, connection, server) => {
    capture = captureOutput();
    const began = Date.now();
    const err = await bootSecureApp({ connection: connection(), logger: capture.logger, startupTimeout: 3_000 }).catch(
      (e: unknown) => e,
    );
    const elapsed = Date.now() - began;
    // Let anything logged after the failure (reconnect warnings of a client left open) arrive.
    await sleep(300);
    capture.restore();

    expect(err).toBeInstanceOf(RedisUnavailableError);
    expect((err as TaskQueueError).code).toBe('REDIS_UNAVAILABLE');
    expect((err as Error).message).toContain(`127.0.0.1:${server().port}`);
    // The reason is Redis' own: WRONGPASS / NOAUTH, not a bare timeout.
    expect((err as Error).message).toMatch(/WRONGPASS|NOAUTH|invalid username-password|Authentication required/i);
    expect(elapsed).toBeLessThan(3_000 + 1_000);
    expectNoSecret(errorText(err), SECRETS, 'the startup error');
    expectNoSecret(capture.text(), SECRETS, 'the logs of the failed startup');
    // The capture did see the library's log line about the refused login (so the check above means something).
    expect(capture.text()).toMatch(/Redis commands connection to .*(WRONGPASS|NOAUTH)/);

    // A failed startup leaves no connection behind (nothing retrying AUTH forever).
    if (server() === acl) {
      const others = (await clientList(aclAdmin)).filter((c) => c.fields.cmd !== 'client|list');
      expect(others).toEqual([]);
    }
  });

  /**
   * The app booted fine; then its password is changed (ACL SETUSER ... resetpass) and its
   * connections are dropped, so every reconnect's AUTH is refused (WRONGPASS). `call` runs
   * while that goes on; whatever it throws must be typed and carry no password in any form
   * a caller could log (ioredis' ReplyError of a refused AUTH has
   * `command: { name: 'auth', args: [user, password] }`).
   */
  async function duringRefusedReconnect(call: (moduleRef: TestingModule, sentId: string) => Promise<unknown>) {
    const user2 = `rotating${Math.floor(Math.random() * 1e6)}`;
    await aclAdmin.call('ACL', 'SETUSER', user2, 'on', `>${PASSWORD}`, '~*', '&*', '+@all');
    capture = captureOutput();
    try {
      moduleRef = await bootSecureApp({
        connection: `redis://${user2}:${PASSWORD}@127.0.0.1:${acl.port}/0`,
        logger: capture.logger,
        sendTimeout: 1_000,
      });
      const sent = await client(moduleRef).send('sec.add', [1, 2]);
      await aclAdmin.call('ACL', 'SETUSER', user2, 'resetpass', `>${WRONG}`);
      await aclAdmin.call('CLIENT', 'KILL', 'USER', user2);
      await eventually(() => /reconnecting/.test(capture?.text() ?? ''), 5_000);
      const err = await call(moduleRef, sent.id).then(
        () => new Error('the call succeeded although Redis refuses the password'),
        (e: unknown) => e,
      );
      await moduleRef.close();
      moduleRef = undefined;
      capture.restore();
      expectNoSecret(capture.text(), SECRETS, 'the logs of the refused reconnects');
      return err;
    } finally {
      await aclAdmin.call('ACL', 'DELUSER', user2);
    }
  }

  it('a send while reconnects are refused (WRONGPASS) fails typed, without the password', async () => {
    const err = await duringRefusedReconnect((ref) => client(ref).send('sec.add', [3, 4]));
    expectNoSecret(errorText(err), SECRETS, 'the error of the send');
    expect(err).toBeInstanceOf(RedisUnavailableError);
  });

  it('reading a task (handle.state / snapshot) while reconnects are refused fails typed, without the password', async () => {
    const err = await duringRefusedReconnect((ref, id) => client(ref).handle(id, { queue: 'default' }).state());
    expectNoSecret(errorText(err), SECRETS, 'the error of handle.state()');
    expect(err).toBeInstanceOf(TaskQueueError);
  });
});

describe('no password in the logs while Redis goes away and comes back', () => {
  let server: PrivateRedis;
  let admin: Redis;
  let capture: ReturnType<typeof captureOutput> | undefined;
  let moduleRef: TestingModule | undefined;

  beforeAll(async () => {
    server = await startPrivateRedis({ args: aclArgs });
    admin = new Redis({
      host: '127.0.0.1',
      port: server.port,
      username: USER,
      password: PASSWORD,
      lazyConnect: true,
      retryStrategy: () => 100,
    });
    admin.on('error', () => undefined);
    await admin.connect();
  });
  afterEach(async () => {
    capture?.restore();
    capture = undefined;
    await moduleRef?.close();
    moduleRef = undefined;
  });
  afterAll(async () => {
    admin?.disconnect();
    await server?.dispose();
  });

  it.each([
    ['a URL', () => `redis://${USER}:${PASSWORD}@127.0.0.1:${server.port}/0`],
    ['an options object', () => ({ host: '127.0.0.1', port: server.port, username: USER, password: PASSWORD })],
  ] as [string, () => Connection][])(
    'with %s: reconnect warnings, the outage error of a send and the recovery name no password',
    async (_form, connection) => {
      if (!server.running()) await server.restart();
      capture = captureOutput();
      const prefix = uniquePrefix('sec');
      moduleRef = await bootSecureApp({
        connection: connection(),
        prefix,
        logger: capture.logger,
        sendTimeout: 500,
        worker: { leaseMs: 1_000 },
      });
      await moduleRef.get(TaskWorkerHost).start();
      const tasks = client(moduleRef);
      await expect((await tasks.send('sec.add', [1, 1])).result({ timeout: 5_000 })).resolves.toBe(2);

      // Redis goes away.
      await server.stop();
      await eventually(() => (capture?.text().match(/reconnecting/g) ?? []).length >= 2, 8_000);
      const outage = await tasks.send('sec.add', [2, 2]).catch((e: unknown) => e);
      expect(outage).toBeInstanceOf(RedisUnavailableError);
      expectNoSecret(errorText(outage), SECRETS, 'the send error during the outage');
      await sleep(500); // a few reconnect attempts more

      // It comes back (empty: no persistence): every connection authenticates again.
      await server.restart();
      await eventually(() => /is back/.test(capture?.text() ?? ''), 8_000);
      await expect((await tasks.send('sec.add', [3, 3])).result({ timeout: 8_000 })).resolves.toBe(6);
      // The lease-keeper thread came back too, as the ACL user, and renews leases again.
      await eventually(async () => (await clientList(admin).catch(() => [])).some((c) => c.name === 'tq:leases'), 8_000);
      const run = await runSlowTaskUnderShortLease(moduleRef, admin, prefix);
      expect(run.runs).toBe(1);
      expect(run.deliveries).toBe(1);

      await moduleRef.close();
      moduleRef = undefined;
      capture.restore();
      const text = capture.text();
      expect(text).toMatch(/reconnecting/); // the capture did see the outage
      expectNoSecret(text, SECRETS, 'the logs of the outage and the recovery');
    },
    20_000,
  );
});

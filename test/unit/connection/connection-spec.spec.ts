import { describe, expect, it } from '@jest/globals';
import { InvalidOptionsError } from '../../../lib/common/errors.js';
import { assertConnectionSpec, describeConnection } from '../../../lib/connection/connection-spec.js';

function invalid(spec: unknown, option?: string): InvalidOptionsError {
  try {
    assertConnectionSpec(spec, option);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidOptionsError);
    return err as InvalidOptionsError;
  }
  throw new Error(`expected ${JSON.stringify(spec)} to be rejected`);
}

describe('assertConnectionSpec', () => {
  it.each([
    'redis://127.0.0.1:6379/0',
    'redis://localhost',
    'redis://localhost/',
    'redis://:secret@localhost:6379/15',
    'redis://user:secret@redis.internal:6380/2',
    'rediss://user:secret@cache.example.com:6380/1',
    'redis://[::1]:6379/3',
  ])('accepts %s', (url) => {
    expect(() => assertConnectionSpec(url)).not.toThrow();
  });

  it.each([[{}], [{ host: 'h', port: 1, db: 2 }], [{ sentinels: [{ host: 's', port: 26379 }], name: 'mymaster' }]])(
    'accepts ioredis options %p',
    (spec) => {
      expect(() => assertConnectionSpec(spec)).not.toThrow();
    },
  );

  it('rejects a string that is not a URL', () => {
    const err = invalid('127.0.0.1:6379');
    expect(err.option).toBe('connection');
    expect(err.message).toContain('not a valid URL');
  });

  it.each(['http://127.0.0.1:6379', 'tcp://127.0.0.1:6379', 'unix:///tmp/redis.sock'])(
    'rejects the protocol of %s',
    (url) => {
      expect(invalid(url).message).toContain('must use redis:// or rediss://');
    },
  );

  it.each([['redis://h:6379/cache', 'cache'], ['redis://h/1a', '1a'], ['redis://h/0/1', '0/1']])(
    'rejects %s, quoting the bad db path',
    (url, db) => {
      expect(invalid(url).message).toContain(`"${db}" where the database number belongs`);
    },
  );

  it.each([[null], [undefined], [6379], [['redis://h']], [true]])('rejects %p', (spec) => {
    expect(invalid(spec).message).toContain('must be a redis:// URL or an ioredis options object');
  });

  it("rejects ioredis' keyPrefix, pointing to the prefix option", () => {
    const err = invalid({ host: '127.0.0.1', keyPrefix: 'app:' });
    expect(err.option).toBe('connection.keyPrefix');
    expect(err.message).toContain('`prefix` option');
  });

  it('names the option it was given', () => {
    expect(invalid('ftp://x', 'worker.connection').option).toBe('worker.connection');
  });

  it('never quotes the password in its errors', () => {
    for (const url of ['http://user:hunter2@h:6379/0', 'redis://user:hunter2@h:6379/db', 'redis://user:hunter2@h:port/0']) {
      expect(invalid(url).message).not.toContain('hunter2');
    }
  });
});

describe('describeConnection', () => {
  it.each([
    ['redis://user:secret@host:6380/2', 'redis://host:6380/2'],
    ['redis://:secret@host:6380/2', 'redis://host:6380/2'],
    ['rediss://user:secret@cache.example.com:6390/1', 'rediss://cache.example.com:6390/1'],
    ['rediss://default:secret@cache.example.com', 'rediss://cache.example.com:6379/0'],
    ['redis://127.0.0.1', 'redis://127.0.0.1:6379/0'],
    ['redis://127.0.0.1:6379/', 'redis://127.0.0.1:6379/0'],
  ])('describes %s as %s', (url, described) => {
    const text = describeConnection(url);
    expect(text).toBe(described);
    expect(text).not.toContain('secret');
    expect(text).not.toContain('user');
    expect(text).not.toContain('default:');
  });

  it('describes ioredis options without their password', () => {
    const text = describeConnection({ host: 'redis.internal', port: 6380, db: 4, username: 'app', password: 'secret' });
    expect(text).toBe('redis://redis.internal:6380/4');
    expect(describeConnection({})).toBe('redis://127.0.0.1:6379/0');
    expect(describeConnection({ path: '/run/redis.sock', password: 'secret' })).toBe('unix:/run/redis.sock');
  });

  it('describes Sentinel options without their passwords', () => {
    const text = describeConnection({
      sentinels: [{ host: 's1', port: 26379 }, { host: 's2', port: 26379 }],
      name: 'mymaster',
      password: 'secret',
      sentinelPassword: 'secret',
    });
    expect(text).toBe('sentinel mymaster via 2 sentinel(s)');
  });
});

import { describe, expect, it } from '@jest/globals';
import { InvalidQueueNameError } from '../../../lib/common/errors.js';
import { assertQueueName, QueueKeys } from '../../../lib/broker/keys.js';

/** CRC16/XMODEM (poly 0x1021, init 0), the checksum Redis Cluster uses for key slots. */
function crc16(data: Buffer): number {
  let crc = 0;
  for (const byte of data) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** Redis Cluster's HASH_SLOT: hash only the first {...} when it is non-empty. */
function keySlot(key: string): number {
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) key = key.slice(open + 1, close);
  }
  return crc16(Buffer.from(key, 'utf8')) % 16384;
}

function allKeys(keys: QueueKeys, id: string): string[] {
  return [keys.wait, keys.active, keys.delayed, keys.wake, keys.dead, keys.deadIndex, keys.task(id), keys.events(id)];
}

describe('keySlot (the test helper itself)', () => {
  it('matches the CRC16 check value and slots documented by Redis', () => {
    expect(crc16(Buffer.from('123456789'))).toBe(0x31c3);
    // The slots below were read from a real cluster-mode redis-server with CLUSTER KEYSLOT.
    expect(keySlot('foo')).toBe(12182);
    expect(keySlot('bar')).toBe(5061);
    expect(keySlot('{user1000}.following')).toBe(keySlot('{user1000}.followers'));
    expect(keySlot('foo{}{bar}')).toBe(8363); // an empty first tag: the whole key is hashed
    expect(keySlot('foo{{bar}}zap')).toBe(4015); // the tag is "{bar"
    expect(keySlot('{default}')).toBe(5718);
    expect(keySlot('tq:{default}:wait')).toBe(5718);
  });
});

describe('QueueKeys', () => {
  const keys = new QueueKeys('tq', 'default');

  it('names every key of a queue under the prefix and the queue hash tag', () => {
    expect(keys.wait).toBe('tq:{default}:wait');
    expect(keys.active).toBe('tq:{default}:active');
    expect(keys.delayed).toBe('tq:{default}:delayed');
    expect(keys.wake).toBe('tq:{default}:wake');
    expect(keys.dead).toBe('tq:{default}:dead');
    expect(keys.deadIndex).toBe('tq:{default}:dead:index');
    expect(keys.task('abc')).toBe('tq:{default}:t:abc');
    expect(keys.events('abc')).toBe('tq:{default}:ev:abc');
  });

  it('gives every key its own name', () => {
    const names = allKeys(keys, 'abc');
    expect(new Set(names).size).toBe(names.length);
  });

  it.each([
    ['tq', 'default', 'f3b1c1e0-0000-4000-8000-000000000001'],
    ['app:tq', 'reports', 'x'],
    ['a.b-c_d', 'Queue_1.high-prio', 'id-with-{braces}'],
    ['tq', 'q', '{other}'],
  ])('with prefix %s, queue %s and task id %s: the first hash tag is the queue', (prefix, queue, id) => {
    const k = new QueueKeys(prefix, queue);
    for (const key of allKeys(k, id)) {
      expect(key).toContain(`{${queue}}`);
      expect(key.indexOf('{')).toBe(key.indexOf(`{${queue}}`));
    }
  });

  it.each([['default'], ['reports'], ['emails.high'], ['q'], ['Z'.repeat(64)]])(
    'maps every key of queue %s to one cluster slot',
    (queue) => {
      for (const prefix of ['tq', 'myapp:tq']) {
        const k = new QueueKeys(prefix, queue);
        const expected = keySlot(`{${queue}}`);
        for (const id of ['1', 'f3b1c1e0-0000-4000-8000-000000000001', 'abc{def}', '}']) {
          expect(allKeys(k, id).map(keySlot)).toEqual(Array(8).fill(expected));
        }
      }
    },
  );

  it('puts different queues in (generally) different slots', () => {
    const queues = ['default', 'reports', 'emails', 'images', 'billing'];
    const slots = new Set(queues.map((q) => keySlot(new QueueKeys('tq', q).wait)));
    expect(slots.size).toBeGreaterThan(1);
  });

  it.each([[''], ['a{b'], ['a}b'], ['{a}'], ['a:b'], ['a b'], ['é'], ['x'.repeat(65)], ['a/b']])(
    'refuses queue name %p',
    (queue) => {
      expect(() => new QueueKeys('tq', queue)).toThrow(InvalidQueueNameError);
      expect(() => assertQueueName(queue)).toThrow(InvalidQueueNameError);
    },
  );

  it('refuses a queue name that is not a string', () => {
    expect(() => assertQueueName(undefined as unknown as string)).toThrow(InvalidQueueNameError);
    expect(() => assertQueueName(3 as unknown as string)).toThrow(InvalidQueueNameError);
  });

  it.each([['a'], ['default'], ['A-Z_a.z-0.9'], ['x'.repeat(64)]])('accepts queue name %p', (queue) => {
    expect(() => assertQueueName(queue)).not.toThrow();
  });
});

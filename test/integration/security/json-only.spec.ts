// Security: messages carry JSON data only. Code-looking strings arrive as strings, "__proto__"
// keys arrive as plain own properties (no prototype pollution in the worker or the client),
// nothing is revived or evaluated, and a message that is not JSON is dead-lettered unread. Both
// through TaskClient and with messages written straight into the queue (a foreign producer,
// or anyone with write access to Redis).
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { TestingModule } from '@nestjs/testing';
import { randomUUID } from 'node:crypto';
import { TaskFailedError, TaskQueueAdmin, TaskWorkerHost } from '../../../lib/index.js';
import { TaskQueueEngine } from '../../../lib/engine.js';
import { startPrivateRedis, type PrivateRedis } from '../../support/private-redis.js';
import { eventually } from '../../support/test-redis.js';
import { bootSecureApp, client, type ValueReport } from './fixtures.js';

const CODE = 'function(){ process.exit(1) }';
const IIFE = '(function(){ globalThis.__tqPwned = true; process.exit(1) })()';
const TEMPLATE = '${process.exit(1)}';

interface InspectResult {
  seen: ValueReport[];
  echo: unknown[];
  pollutedInWorker: unknown;
  objectPrototypeKeys: string[];
}

function expectPrototypeClean(): void {
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(Object.prototype).not.toHaveProperty('polluted');
  expect(Object.getOwnPropertyNames(Object.prototype)).not.toContain('polluted');
  expect((globalThis as { __tqPwned?: unknown }).__tqPwned).toBeUndefined();
}

describe('messages carry JSON data only', () => {
  let server: PrivateRedis;
  let moduleRef: TestingModule;

  beforeAll(async () => {
    server = await startPrivateRedis();
    moduleRef = await bootSecureApp({ connection: `redis://127.0.0.1:${server.port}/0` });
    await moduleRef.get(TaskWorkerHost).start();
  });
  afterEach(() => expectPrototypeClean());
  afterAll(async () => {
    await moduleRef?.close();
    await server?.dispose();
  });

  it('code-looking strings arrive as the same strings; "__proto__" keys arrive as own data properties', async () => {
    const protoPayload = JSON.parse('{"__proto__": {"polluted": true}}') as object;
    const ctorPayload = JSON.parse('{"constructor": {"prototype": {"polluted": true}}}') as object;
    // JSON.parse made "__proto__" an own property; the sender's prototype is untouched.
    expect(Object.getPrototypeOf(protoPayload)).toBe(Object.prototype);
    expectPrototypeClean();

    const handle = await client(moduleRef).send('sec.inspect', [CODE, protoPayload, ctorPayload, IIFE, TEMPLATE, new Date(0)]);
    const result = (await handle.result({ timeout: 5_000 })) as InspectResult;

    // What the handler saw.
    const [code, proto, ctor, iife, template, date] = result.seen as ValueReport[];
    expect(code).toMatchObject({ type: 'string' });
    expect(iife).toMatchObject({ type: 'string' });
    expect(template).toMatchObject({ type: 'string' });
    expect(date).toMatchObject({ type: 'string' }); // no reviver: a Date travels as its ISO string
    expect(proto).toEqual({
      type: 'object',
      proto: 'Object.prototype',
      ownKeys: ['__proto__'],
      ownProtoProperty: { polluted: true },
      inheritedPolluted: false,
    });
    expect(ctor).toMatchObject({ type: 'object', proto: 'Object.prototype', ownKeys: ['constructor'], inheritedPolluted: false });
    expect(result.echo.slice(0, 1)).toEqual([CODE]);
    expect(result.echo[3]).toBe(IIFE);
    expect(result.echo[4]).toBe(TEMPLATE);
    expect(result.echo[5]).toBe('1970-01-01T00:00:00.000Z');
    // The worker's Object.prototype stayed clean while the handler ran.
    expect(result.pollutedInWorker).toBeNull();
    expect(result.objectPrototypeKeys).toEqual([]);

    // What the client got back: the same data, parsed as data.
    const echoed = result.echo[1] as object;
    expect(Object.getPrototypeOf(echoed)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(echoed, '__proto__')?.value).toEqual({ polluted: true });
    expect((echoed as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('a message written straight into Redis, with "__proto__" at every level, is read as plain data', async () => {
    const engine = moduleRef.get(TaskQueueEngine);
    const id = randomUUID();
    // Hand-written JSON (not produced by JSON.stringify of a JS object): "__proto__" keys in the
    // envelope itself, in headers and in the arguments.
    const body =
      `{"v":1,"id":"${id}","task":"sec.inspect","queue":"default","attempt":1,` +
      `"__proto__":{"polluted":true,"task":"sec.add"},` +
      `"headers":{"__proto__":"polluted"},` +
      `"args":["${CODE}",{"__proto__":{"polluted":true},"a":{"__proto__":{"polluted":true}}},{"constructor":{"prototype":{"polluted":true}}}]}`;
    expect(() => JSON.parse(body)).not.toThrow();
    await engine.broker.enqueue('default', [{ id, body, due: 0, task: 'sec.inspect' }]);
    const result = (await client(moduleRef).handle(id, { queue: 'default' }).result({ timeout: 5_000 })) as InspectResult;
    // The envelope's own "__proto__" did not redirect the task, nor pollute anything.
    expect(result.seen[0]).toMatchObject({ type: 'string' });
    expect(result.echo[0]).toBe(CODE);
    expect(result.seen[1]).toMatchObject({ proto: 'Object.prototype', ownKeys: ['__proto__', 'a'], inheritedPolluted: false });
    expect(result.seen[2]).toMatchObject({ proto: 'Object.prototype', ownKeys: ['constructor'], inheritedPolluted: false });
    expect(result.pollutedInWorker).toBeNull();
    expect(result.objectPrototypeKeys).toEqual([]);
  });

  it('a message that is not JSON (a JavaScript expression) is dead-lettered, never evaluated', async () => {
    const engine = moduleRef.get(TaskQueueEngine);
    const id = randomUUID();
    const body =
      `{"v":1,"id":"${id}","task":"sec.inspect","queue":"default","attempt":1,"headers":{},` +
      `"args":[${IIFE}, function(){ process.exit(1) }]}`;
    expect(() => JSON.parse(body)).toThrow(SyntaxError);
    await engine.broker.enqueue('default', [{ id, body, due: 0, task: 'sec.inspect' }]);
    const err = await client(moduleRef)
      .handle(id, { queue: 'default' })
      .result({ timeout: 5_000 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskFailedError);
    expect((err as TaskFailedError).remoteName).toBe('MalformedMessageError');
    expect((err as TaskFailedError).remoteMessage).toMatch(/not JSON/);
    const dead = moduleRef.get(TaskQueueAdmin).deadLetters('default');
    const entry = async () => (await dead.list()).find((d) => d.id === id);
    await eventually(async () => (await entry())?.reason === 'malformed', 5_000);
    expect((await entry())?.message).toBe(body); // kept verbatim for inspection, still unevaluated
    expect(process.exitCode ?? 0).toBe(0);
  });

  it('non-JSON arguments are refused at send time, before anything reaches Redis', async () => {
    const tasks = client(moduleRef);
    await expect(tasks.send('sec.inspect', [() => process.exit(1)])).rejects.toThrow(/args\[0\] is a function/);
    class Gadget {
      polluted = true;
    }
    await expect(tasks.send('sec.inspect', [new Gadget()])).rejects.toThrow(/args\[0\] is a Gadget/);
  });
});

import { afterEach, describe, expect, it } from '@jest/globals';
import { Injectable, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import {
  DuplicateTaskError,
  InvalidOptionsError,
  RedisUnavailableError,
  Task,
  TaskClient,
  TaskQueueModule,
  TaskWorkerHost,
  type TaskQueueModuleOptions,
} from '../../../lib/index.js';
import { rawRedis, testRedisUrl, uniquePrefix } from '../../support/test-redis.js';
import { MathTasks, Multiplier } from './fixtures.js';

@Injectable()
class OtherTasks {
  @Task('MathTasks.add')
  add(): number {
    return 0;
  }
}

/** A feature module that injects TaskClient without importing TaskQueueModule itself. */
@Injectable()
class ReportService {
  constructor(readonly tasks: TaskClient) {}
}
@Module({ providers: [ReportService], exports: [ReportService] })
class ReportModule {}

@Injectable()
class QueueConfig {
  readonly url = testRedisUrl();
}
@Module({ providers: [QueueConfig], exports: [QueueConfig] })
class ConfigModule {}

describe('TaskQueueModule setup', () => {
  let moduleRef: TestingModule | undefined;
  afterEach(async () => {
    await moduleRef?.close();
    moduleRef = undefined;
  });

  async function compile(imports: unknown[], providers: unknown[] = [MathTasks, Multiplier]) {
    const ref = await Test.createTestingModule({ imports: imports as never[], providers: providers as never[] }).compile();
    ref.useLogger(false);
    await ref.init();
    return ref;
  }

  it('forRootAsync with useFactory and inject, and TaskClient injectable in another module', async () => {
    const prefix = uniquePrefix();
    moduleRef = await compile([
      TaskQueueModule.forRootAsync({
        imports: [ConfigModule],
        inject: [QueueConfig],
        useFactory: (config: QueueConfig) => ({ connection: config.url, prefix }),
      }),
      ReportModule,
    ]);
    await moduleRef.get(TaskWorkerHost).start();
    const handle = await moduleRef.get(ReportService).tasks.call(MathTasks, 'add', [2, 2]);
    await expect(handle.result({ timeout: 5_000 })).resolves.toBe(4);
  });

  it('forRootAsync with useClass', async () => {
    const prefix = uniquePrefix();
    @Injectable()
    class OptionsFactory {
      create(): TaskQueueModuleOptions {
        return { connection: testRedisUrl(), prefix };
      }
    }
    moduleRef = await compile([TaskQueueModule.forRootAsync({ useClass: OptionsFactory })]);
    await moduleRef.get(TaskWorkerHost).start();
    const handle = await moduleRef.get(TaskClient).call(MathTasks, 'add', [3, 4]);
    await expect(handle.result({ timeout: 5_000 })).resolves.toBe(7);
  });

  it('honours the database number of the URL', async () => {
    const prefix = uniquePrefix();
    const url = testRedisUrl().replace(/\/\d+$/, '/3');
    moduleRef = await compile([TaskQueueModule.forRoot({ connection: url, prefix })]);
    const handle = await moduleRef.get(TaskClient).call(MathTasks, 'add', [1, 1]);
    const raw = rawRedis();
    try {
      // A task waiting to run is its message in the queue's msg hash (see enqueue.lua).
      expect(await raw.hexists(`${prefix}:{default}:msg`, handle.id)).toBe(0);
      await raw.select(3);
      expect(await raw.hexists(`${prefix}:{default}:msg`, handle.id)).toBe(1);
    } finally {
      raw.disconnect();
    }
  });

  it('fails at startup when two tasks share a name, naming both', async () => {
    const err = await compile(
      [TaskQueueModule.forRoot({ connection: testRedisUrl(), prefix: uniquePrefix() })],
      [MathTasks, Multiplier, OtherTasks],
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DuplicateTaskError);
    expect((err as Error).message).toMatch(/"MathTasks\.add".*MathTasks\.add.*OtherTasks\.add/);
  });

  it.each([
    [{ connection: 'http://localhost:6379' }, 'connection'],
    [{ connection: 'redis://h:6379/x' }, 'connection'],
    [{ connection: testRedisUrl(), resultTtl: -1 }, 'resultTtl'],
    [{ connection: testRedisUrl(), defaultQueue: 'a{b}' }, 'defaultQueue'],
    [{ connection: testRedisUrl(), worker: { concurrency: 0 } }, 'worker.concurrency'],
    [{ connection: testRedisUrl(), worker: { queues: ['ok', 'no:colons'] } }, 'worker.queues[1]'],
    [{ connection: testRedisUrl(), conection: 'typo' }, 'conection'],
  ])('fails at startup on bad options %#, naming the option', async (options, option) => {
    const err = await compile([TaskQueueModule.forRoot(options as TaskQueueModuleOptions)]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidOptionsError);
    expect((err as InvalidOptionsError).option).toBe(option);
    expect((err as Error).message).toContain(`"${option}"`);
  });

  it('fails at startup, in words and without the password, when Redis cannot be reached', async () => {
    const err = await compile([
      TaskQueueModule.forRoot({ connection: 'redis://user:s3cret@127.0.0.1:1/0', startupTimeout: 500 }),
    ]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RedisUnavailableError);
    expect((err as Error).message).toContain('127.0.0.1:1');
    expect((err as Error).message).not.toContain('s3cret');
  });
});

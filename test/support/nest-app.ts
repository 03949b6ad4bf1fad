// Boots a Nest testing module with TaskQueueModule on the test Redis, as the integration tests need it.
import { Test, type TestingModule } from '@nestjs/testing';
import type { Provider } from '@nestjs/common';
import { TaskQueueModule, type TaskQueueModuleOptions } from '../../lib/index.js';
import { testRedisUrl, uniquePrefix } from './test-redis.js';

export async function bootApp(
  providers: Provider[],
  options: Partial<TaskQueueModuleOptions> = {},
): Promise<TestingModule> {
  const moduleRef = await Test.createTestingModule({
    imports: [TaskQueueModule.forRoot({ connection: testRedisUrl(), prefix: uniquePrefix(), ...options })],
    providers,
  }).compile();
  moduleRef.useLogger(false);
  await moduleRef.init();
  return moduleRef;
}

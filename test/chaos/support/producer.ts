// The sending side of the chaos tests: a Nest app (TaskQueueModule.forRoot) that only sends,
// through TaskClient, as a user's API process would. Its logs are kept, not printed.
import { Test, type TestingModule } from '@nestjs/testing';
import { TaskClient, TaskQueueModule, type TaskQueueModuleOptions } from '../../../lib/index.js';
import { capturingLogger } from '../../support/test-redis.js';

export interface Producer {
  client: TaskClient;
  logs: string[];
  close(): Promise<void>;
}

export async function startProducer(
  url: string,
  prefix: string,
  options: Omit<TaskQueueModuleOptions, 'connection' | 'prefix'> = {},
): Promise<Producer> {
  const { lines, logger } = capturingLogger();
  const moduleRef: TestingModule = await Test.createTestingModule({
    imports: [TaskQueueModule.forRoot({ ...options, connection: url, prefix })],
  })
    .setLogger(logger)
    .compile();
  await moduleRef.init();
  return { client: moduleRef.get(TaskClient), logs: lines, close: () => moduleRef.close() };
}

import { Module } from '@nestjs/common';
import { TaskQueueModule } from 'nestjs-taskqueue';
import { MessageService } from './message.service.js';
import { SampleTasks } from './tasks/sample.tasks.js';
import { TasksController } from './tasks/tasks.controller.js';

@Module({
  imports: [
    // forRootAsync so that the environment is read when the app boots, not when this file is
    // imported. TQ_PREFIX lets several copies of the app (the e2e tests) share one Redis.
    TaskQueueModule.forRootAsync({
      useFactory: () => ({
        connection: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0',
        ...(process.env.TQ_PREFIX ? { prefix: process.env.TQ_PREFIX } : {}),
      }),
    }),
  ],
  controllers: [TasksController],
  providers: [MessageService, SampleTasks],
})
export class AppModule {}

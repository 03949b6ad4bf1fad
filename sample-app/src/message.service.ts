import { Injectable } from '@nestjs/common';

// A plain provider that SampleTasks depends on: the worker runs handlers on the instances Nest
// built, with their dependencies injected, so this is all it takes.
@Injectable()
export class MessageService {
  completed(seconds: number): string {
    return `Task completed after ${seconds} seconds!`;
  }
}

import {
  BadRequestException,
  Body,
  Controller,
  Get,
  HttpCode,
  Param,
  Post,
  Sse,
  type MessageEvent,
} from '@nestjs/common';
import { TaskClient } from 'nestjs-taskqueue';
import { map, type Observable } from 'rxjs';
import { SampleTasks } from './sample.tasks.js';

@Controller('tasks')
export class TasksController {
  constructor(private readonly tasks: TaskClient) {}

  // 202: the task is queued, not done; the client follows it with GET /tasks/:id.
  @Post('add')
  @HttpCode(202)
  async add(@Body() body: unknown): Promise<{ id: string }> {
    const x = numberField(body, 'x');
    const y = numberField(body, 'y');
    // call() by class and method: a wrong argument list would not compile.
    const handle = await this.tasks.call(SampleTasks, 'add', [x, y]);
    return { id: handle.id };
  }

  @Post('long')
  @HttpCode(202)
  async long(@Body() body: unknown): Promise<{ id: string }> {
    const seconds = numberField(body, 'seconds');
    if (!Number.isInteger(seconds) || seconds < 0 || seconds > 600) {
      throw new BadRequestException('seconds must be an integer from 0 to 600');
    }
    // send() by name: what a process without the SampleTasks class (another service) would do.
    const handle = await this.tasks.send('long_running_task', [seconds]);
    return { id: handle.id };
  }

  @Get(':id')
  async get(@Param('id') id: string) {
    const s = await this.tasks.handle(checkId(id)).snapshot();
    // null rather than undefined, so that every key is present in the JSON.
    return { id, state: s.state, progress: s.progress ?? null, result: s.result ?? null, error: s.error ?? null };
  }

  /** State changes as Server-Sent Events; the stream ends after SUCCESS, FAILURE or REVOKED. */
  @Sse(':id/events')
  events(@Param('id') id: string): Observable<MessageEvent> {
    return this.tasks.handle(checkId(id)).events$.pipe(map((event) => ({ data: event })));
  }
}

function numberField(body: unknown, name: string): number {
  const value = (body as Record<string, unknown> | null | undefined)?.[name];
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new BadRequestException(`${name} must be a number`);
  }
  return value;
}

// Ids are UUIDs unless a sender chose one; anything longer than the library accepts is no task.
function checkId(id: string): string {
  if (id.length > 200) throw new BadRequestException('id is too long');
  return id;
}

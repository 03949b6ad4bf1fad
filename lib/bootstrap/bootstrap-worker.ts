/**
 * bootstrapWorker(AppModule): start the application module as a consumer. The app boots as an
 * application context (no HTTP server), its @Task() providers become the worker's handlers,
 * and SIGTERM / SIGINT stop fetching, drain running tasks, close the app and exit 0.
 */
import { Logger, type INestApplicationContext, type LogLevel, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { WorkerOptions } from '../module/task-queue-options.interface.js';
import { TaskWorkerHost } from '../module/task-worker.host.js';
import { workerOptionsFromArgv } from './worker-argv.js';

export interface BootstrapWorkerOptions extends WorkerOptions {
  /** Nest logger setting for the application context. */
  logger?: LoggerService | LogLevel[] | false;
  /** Stop and exit on SIGTERM / SIGINT. Default true. */
  handleSignals?: boolean;
  /** Command-line arguments to read --queues= and --concurrency= from. Default process.argv. */
  argv?: readonly string[];
}

export interface RunningWorker {
  app: INestApplicationContext;
  host: TaskWorkerHost;
  /** Drains the worker and closes the application. */
  close(): Promise<void>;
}

export async function bootstrapWorker(module: unknown, options: BootstrapWorkerOptions = {}): Promise<RunningWorker> {
  const { logger, handleSignals = true, argv = process.argv, ...workerOptions } = options;
  const app = await NestFactory.createApplicationContext(module as never, logger === undefined ? {} : { logger });
  const host = app.get(TaskWorkerHost);
  await host.start({ ...workerOptions, ...workerOptionsFromArgv(argv) });

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      // Drain first, while every provider (and Redis) is still up: handlers may send follow-up tasks.
      await host.stop();
      await app.close();
    })());

  if (handleSignals) {
    const log = new Logger('TaskWorker');
    const onSignal = (signal: NodeJS.Signals) => {
      log.log(`${signal} received: finishing running tasks, then exiting`);
      close().then(
        () => process.exit(0),
        (err: unknown) => {
          log.error(`Shutdown failed: ${(err as Error).message}`);
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }
  return { app, host, close };
}

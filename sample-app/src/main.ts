// One entry point for both roles, as the library intends: `node dist/main.js` serves HTTP and
// only sends tasks; `node dist/main.js --worker` consumes them. Through the nest CLI it is
// `nest start -- --worker`: the CLI hands the app only the arguments after a bare `--`.
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { bootstrapWorker } from 'nestjs-taskqueue';
import { AppModule } from './app.module.js';

if (process.argv.includes('--worker')) {
  // bootstrapWorker handles SIGTERM/SIGINT itself: drain running tasks, close the app, exit 0.
  await bootstrapWorker(AppModule);
} else {
  // The library ends open /tasks/:id/events streams at shutdown; forceCloseConnections also drops
  // idle keep-alive connections, so SIGTERM stops the API at once.
  const app = await NestFactory.create(AppModule, { forceCloseConnections: true });
  // Without this, SIGTERM would kill the API without closing its Redis connections.
  app.enableShutdownHooks();
  await app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
  console.log(`API listening on http://127.0.0.1:${process.env.PORT ?? 3000}`);
}

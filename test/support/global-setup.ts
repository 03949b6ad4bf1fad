// Starts the Redis every test talks to, unless TEST_REDIS_URL names one. Tests use their own
// key prefixes and never flush, so a Redis given by TEST_REDIS_URL is left as it was.
import { startRedisServer } from '../../scripts/redis-server.mjs';

export default async function globalSetup(): Promise<void> {
  if (process.env.TEST_REDIS_URL) return;
  const server = await startRedisServer();
  process.env.TEST_REDIS_URL = server.url;
  (globalThis as { __TQ_REDIS__?: { stop(): Promise<void> } }).__TQ_REDIS__ = server;
}

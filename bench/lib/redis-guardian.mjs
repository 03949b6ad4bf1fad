// Holds the bench's private redis-server (started by scripts/redis-server.mjs) and stops it as
// soon as the bench process goes away, even if the bench was SIGKILLed: its IPC channel closes.
import { startRedisServer } from '../../scripts/redis-server.mjs';

let server;
const stopAndExit = async (code) => {
  try {
    await server?.stop();
  } finally {
    process.exit(code);
  }
};
process.on('disconnect', () => void stopAndExit(0));
process.on('message', (m) => m === 'stop' && void stopAndExit(0));
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => void stopAndExit(0));

startRedisServer().then(
  (s) => {
    server = s;
    process.send({ url: s.url, port: s.port });
  },
  (err) => {
    process.send({ error: err.message });
    process.exit(1);
  },
);

/**
 * The one place that creates and closes Redis connections. A process opens at most three:
 * commands (shared), pub/sub (only when something waits for events) and one
 * blocking connection (only in a worker, whatever its concurrency).
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { EngineLogger } from '../common/engine-logger.js';
import { type ConnectionSpec, describeConnection } from './connection-spec.js';
import { forgetCredentials } from './redis-errors.js';

type Role = 'commands' | 'events' | 'blocking';

export class RedisConnections {
  private readonly clients = new Map<Role, Redis>();
  private closed = false;
  readonly where: string;
  /** The last connection error seen, to say why Redis could not be reached. */
  lastError: string | undefined;

  constructor(
    readonly spec: ConnectionSpec,
    private readonly logger: EngineLogger,
  ) {
    this.where = describeConnection(spec);
  }

  get commands(): Redis {
    // Not auto-pipelined: the hot path batches its own calls (sends of a turn, fetches, commits of
    // a turn), and a call written at once lets Redis work on it while this process builds the
    // next; holding calls to the end of the turn made them wait for each other (measured with npm run bench).
    return this.get('commands', {});
  }

  get events(): Redis {
    // No ready check (INFO) on the subscriber: ioredis 5.8.2+ may write a SUBSCRIBE issued while it
    // connects ahead of that INFO, which Redis then refuses in subscriber mode, and the connection
    // fails and reconnects (ioredis issue #2037, fixed in 6.0). Seen as a worker that never started.
    return this.get('events', { enableReadyCheck: false });
  }

  get blocking(): Redis {
    // A blocking read may wait longer than any per-request retry budget.
    return this.get('blocking', { maxRetriesPerRequest: null });
  }

  /** Breaks a blocking command in flight (used to stop a worker's wait for work at once). */
  interruptBlocking(): void {
    const client = this.clients.get('blocking');
    if (!client) return;
    this.clients.delete('blocking');
    client.disconnect();
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(
      all.map(async (client) => {
        // QUIT lets replies in flight arrive; a client that is not connected has nothing to wait for.
        if (client.status !== 'ready') return client.disconnect();
        try {
          await client.quit();
        } catch {
          client.disconnect();
        }
      }),
    );
  }

  private get(role: Role, overrides: RedisOptions): Redis {
    let client = this.clients.get(role);
    if (client) return client;
    if (this.closed) throw new Error(`Redis connections to ${this.where} are closed`);
    // lazyConnect: no socket until the first command, so an app that fails to start leaves none open.
    const options: RedisOptions = { connectionName: `tq:${role}`, lazyConnect: true, ...overrides };
    client = typeof this.spec === 'string' ? new Redis(this.spec, options) : new Redis({ ...this.spec, ...options });
    let reported = false;
    client.on('error', (err: Error) => {
      forgetCredentials(err);
      this.lastError = err.message;
      // ioredis reconnects by itself; say so once per outage, not once per attempt.
      if (reported) return;
      reported = true;
      this.logger.warn(`Redis ${role} connection to ${this.where}: ${err.message}; reconnecting`);
    });
    client.on('ready', () => {
      if (reported) this.logger.log(`Redis ${role} connection to ${this.where} is back`);
      reported = false;
    });
    this.clients.set(role, client);
    return client;
  }
}

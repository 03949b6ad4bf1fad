// Private redis-server children for the security tests: with ACL users, requirepass or TLS.
// scripts/redis-server.mjs waits for a plain unauthenticated PING, which such a server refuses
// (NOAUTH) or never offers (TLS only); this helper waits for the server's own "Ready" line
// instead. Every child listens on a free loopback port of its own and is killed in stop().
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, hasRedisServer, INSTALL_HINT } from '../../scripts/redis-server.mjs';

export interface PrivateRedisOptions {
  /** Extra redis-server arguments (ACL users, requirepass, TLS files...). */
  args?: string[];
  /** Serve TLS only: the plain port is closed (--port 0) and `port` is the TLS port. */
  tlsOnly?: boolean;
  port?: number;
}

export interface PrivateRedis {
  /** The port clients use (the TLS port when tlsOnly). */
  readonly port: number;
  readonly dir: string;
  /** Everything the server printed (for failure messages). */
  output(): string;
  running(): boolean;
  /** SIGTERM (SIGKILL after 5 s); the data dir stays until dispose(). */
  stop(): Promise<void>;
  /** Starts the same server again on the same port. */
  restart(): Promise<void>;
  /** stop() and remove the data dir. */
  dispose(): Promise<void>;
}

export async function startPrivateRedis(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
  if (!hasRedisServer()) throw new Error(INSTALL_HINT);
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'tq-sec-redis-'));
  const args = [
    '--bind', '127.0.0.1',
    ...(options.tlsOnly ? ['--port', '0', '--tls-port', String(port)] : ['--port', String(port)]),
    '--dir', dir,
    '--save', '',
    '--appendonly', 'no',
    ...(options.args ?? []),
  ];
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let log = '';

  const launch = async (): Promise<void> => {
    const proc = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    const from = log.length;
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => fail(new Error('no "Ready to accept connections" within 10 s')), 10_000);
      const onData = (d: Buffer) => {
        log += String(d);
        if (!settled && /Ready to accept connections/.test(log.slice(from))) {
          settled = true;
          clearTimeout(timer);
          resolve();
        }
      };
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        proc.kill('SIGKILL');
        reject(new Error(`redis-server on port ${port} did not start: ${err.message}\n${log.slice(from).slice(-2000)}`));
      };
      proc.stdout?.on('data', onData);
      proc.stderr?.on('data', onData);
      proc.once('exit', (code) => fail(new Error(`it exited with code ${code}`)));
    });
  };

  const stop = async (): Promise<void> => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };

  await launch().catch((err: unknown) => {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  });
  return {
    port,
    dir,
    output: () => log,
    running: () => child !== undefined && child.exitCode === null && child.signalCode === null,
    stop,
    restart: async () => {
      await stop();
      await launch();
    },
    dispose: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface TlsMaterial {
  dir: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  /** The CA certificate (PEM) clients must trust. */
  ca: Buffer;
  /** redis-server arguments serving this certificate; clients need no certificate of their own. */
  serverArgs: string[];
  dispose(): void;
}

/**
 * A throwaway CA and a server certificate signed by it, valid for IP 127.0.0.1 and DNS
 * localhost, made with the openssl CLI in a temp dir.
 */
export function makeTlsMaterial(label = 'tq-test'): TlsMaterial {
  const dir = mkdtempSync(join(tmpdir(), 'tq-sec-tls-'));
  const run = (args: string[]) => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (r.error || r.status !== 0) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`openssl ${args.join(' ')} failed: ${r.error?.message ?? ''}${r.stderr ?? ''}`);
    }
  };
  run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '1', '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', `/CN=${label} CA`]);
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost']);
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  run(['x509', '-req', '-sha256', '-days', '1', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-extfile', 'ext.cnf']);
  const caFile = join(dir, 'ca.crt');
  const certFile = join(dir, 'server.crt');
  const keyFile = join(dir, 'server.key');
  return {
    dir,
    caFile,
    certFile,
    keyFile,
    ca: readFileSync(caFile),
    serverArgs: ['--tls-cert-file', certFile, '--tls-key-file', keyFile, '--tls-ca-cert-file', caFile, '--tls-auth-clients', 'no'],
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export function hasOpenssl(): boolean {
  return spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;
}

/**
 * Whether this redis-server serves TLS: starts a TLS-only server and stops it. A build without
 * TLS refuses the tls-* directives at startup; the reason is returned so that a test can say it.
 */
export async function probeRedisTls(): Promise<{ ok: true } | { ok: false; reason: string }> {
  if (!hasRedisServer()) return { ok: false, reason: INSTALL_HINT };
  if (!hasOpenssl()) return { ok: false, reason: 'the openssl CLI is not on PATH (needed to make test certificates)' };
  const version = spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout.trim();
  const tls = makeTlsMaterial('tq-probe');
  try {
    const server = await startPrivateRedis({ tlsOnly: true, args: tls.serverArgs });
    await server.dispose();
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: `${version} could not start with --tls-port: ${(err as Error).message}` };
  } finally {
    tls.dispose();
  }
}

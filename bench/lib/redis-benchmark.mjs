// The physical reference: redis-benchmark's LPUSH / RPOP on the same private server.
import { spawn } from 'node:child_process';

export function runRedisBenchmark(port, n, pipeline) {
  return new Promise((resolve, reject) => {
    const args = ['-h', '127.0.0.1', '-p', String(port), '-q', '-n', String(n), '-t', 'lpush,rpop', '-P', String(pipeline)];
    const child = spawn('redis-benchmark', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const rates = {};
      for (const line of out.split(/[\r\n]+/)) {
        const m = /^(\w+): ([\d.]+) requests per second/.exec(line.trim());
        if (m) rates[m[1].toLowerCase()] = Number(m[2]);
      }
      if (code !== 0 || !rates.lpush || !rates.rpop) {
        reject(new Error(`redis-benchmark ${args.join(' ')} exited ${code}: ${out.slice(-500)}`));
      } else resolve({ command: `redis-benchmark ${args.join(' ')}`, ...rates });
    });
  });
}

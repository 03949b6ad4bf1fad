// Versions and machine facts printed beside the figures.
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg, totalmem } from 'node:os';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export function describeMachine() {
  let cpu = 'unknown';
  try {
    cpu = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpu;
  } catch {
    /* not Linux */
  }
  return { nproc: availableParallelism(), cpu, memGb: Math.round(totalmem() / 2 ** 30), load: loadavg()[0] };
}

export function libraryVersions(oursLabel) {
  const version = (name) => {
    try {
      return require(`${name}/package.json`).version;
    } catch {
      return 'not installed';
    }
  };
  return {
    node: process.version,
    ours: `${require('../../package.json').version} (${oursLabel})`,
    bullmq: version('bullmq'),
    beequeue: version('bee-queue'),
    ioredis: version('ioredis'),
  };
}

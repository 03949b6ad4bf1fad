/** Reads worker overrides from the command line: --queues=a,b and --concurrency=N. */
import { InvalidOptionsError } from '../common/errors.js';
import type { WorkerOptions } from '../module/task-queue-options.interface.js';

export function workerOptionsFromArgv(argv: readonly string[]): WorkerOptions {
  const options: WorkerOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = (argv[i] as string).split(/=(.*)/s, 2) as [string, string | undefined];
    if (flag !== '--queues' && flag !== '--concurrency') continue;
    const value = inline ?? argv[++i];
    if (value === undefined || value === '' || value.startsWith('--')) {
      throw new InvalidOptionsError(flag, 'needs a value, e.g. --queues=reports,default or --concurrency=20');
    }
    if (flag === '--queues') options.queues = value.split(',').map((q) => q.trim()).filter(Boolean);
    else {
      if (!/^\d+$/.test(value) || Number(value) < 1) {
        throw new InvalidOptionsError(flag, `must be a positive integer, got ${value}`);
      }
      options.concurrency = Number(value);
    }
  }
  return options;
}

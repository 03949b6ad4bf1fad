import { describe, expect, it } from '@jest/globals';
import { InvalidOptionsError } from '../../../lib/common/errors.js';
import { workerOptionsFromArgv } from '../../../lib/bootstrap/worker-argv.js';

const node = ['/usr/bin/node', '/app/dist/main.js'];

function invalid(argv: string[]): InvalidOptionsError {
  try {
    workerOptionsFromArgv(argv);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidOptionsError);
    return err as InvalidOptionsError;
  }
  throw new Error(`expected ${argv.join(' ')} to be rejected`);
}

describe('workerOptionsFromArgv', () => {
  it('returns no overrides when no flag is given', () => {
    expect(workerOptionsFromArgv([...node, '--worker'])).toEqual({});
    expect(workerOptionsFromArgv([])).toEqual({});
  });

  it('reads --queues=a,b', () => {
    expect(workerOptionsFromArgv([...node, '--worker', '--queues=a,b'])).toEqual({ queues: ['a', 'b'] });
  });

  it('reads --queues a,b (value in the next argument)', () => {
    expect(workerOptionsFromArgv([...node, '--queues', 'a,b', '--worker'])).toEqual({ queues: ['a', 'b'] });
  });

  it('trims spaces and drops empty names', () => {
    expect(workerOptionsFromArgv(['--queues= a , ,b,'])).toEqual({ queues: ['a', 'b'] });
  });

  it('reads --concurrency=4 and --concurrency 4', () => {
    expect(workerOptionsFromArgv(['--concurrency=4'])).toEqual({ concurrency: 4 });
    expect(workerOptionsFromArgv(['--concurrency', '12'])).toEqual({ concurrency: 12 });
  });

  it('reads both flags together, in any order', () => {
    expect(workerOptionsFromArgv([...node, '--concurrency=2', '--worker', '--queues', 'reports'])).toEqual({
      concurrency: 2,
      queues: ['reports'],
    });
  });

  it('lets the last occurrence win', () => {
    expect(workerOptionsFromArgv(['--concurrency=2', '--concurrency=3'])).toEqual({ concurrency: 3 });
  });

  it('does not take flags that merely start with the same letters', () => {
    expect(workerOptionsFromArgv(['--queuesx=a', '--concurrency-limit=3', '-q', 'a'])).toEqual({});
  });

  it.each([['--concurrency=0'], ['--concurrency=-1'], ['--concurrency=2.5'], ['--concurrency=four'], ['--concurrency=4x']])(
    'rejects %s',
    (arg) => {
      const err = invalid([arg]);
      expect(err.option).toBe('--concurrency');
      expect(err.message).toContain('must be a positive integer');
      expect(err.message).toContain(arg.split('=')[1]);
    },
  );

  it.each([[['--queues=']], [['--queues']], [['--concurrency']], [['--concurrency=']]])(
    'rejects %p without a value',
    (argv) => {
      const err = invalid(argv);
      expect(err.option).toBe(argv[0]?.replace('=', ''));
      expect(err.message).toContain('needs a value');
    },
  );
});

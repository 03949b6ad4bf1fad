// The built package (dist/, ESM) loaded by a CommonJS Nest app through Node's require(esm).
// Needs `npm run build` first, which `npm test` does.
import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { testRedisUrl, uniquePrefix } from '../../support/test-redis.js';

const run = promisify(execFile);
const app = fileURLToPath(new URL('../../fixtures/cjs-app/main.cjs', import.meta.url));

describe('the built package in a CommonJS app', () => {
  it('is required, boots a worker and runs a task', async () => {
    const { stdout } = await run(process.execPath, [app], {
      env: { ...process.env, NODE_OPTIONS: '', REDIS_URL: testRedisUrl(), TQ_PREFIX: uniquePrefix('cjs') },
      timeout: 30_000,
    });
    expect(JSON.parse(stdout.trim())).toEqual({ result: 'HELLO from cjs.shout', moduleType: 'object' });
  });
});

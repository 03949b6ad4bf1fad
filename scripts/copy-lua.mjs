// tsc does not copy non-TypeScript files: put the broker's Lua scripts beside the compiled code.
import { cpSync } from 'node:fs';

cpSync(new URL('../lib/broker/scripts', import.meta.url), new URL('../dist/broker/scripts', import.meta.url), {
  recursive: true,
});

// tsc copies only what it compiles: put the broker's Lua scripts and the plain-JavaScript
// worker thread beside the compiled code.
import { cpSync } from 'node:fs';

const from = (path) => new URL(`../lib/${path}`, import.meta.url);
const to = (path) => new URL(`../dist/${path}`, import.meta.url);

cpSync(from('broker/scripts'), to('broker/scripts'), { recursive: true });
cpSync(from('worker/lease-keeper.thread.mjs'), to('worker/lease-keeper.thread.mjs'));

// Summarises a V8 .cpuprofile (from node --cpu-prof): self time by function and by package,
// so the report can say where a worker's time goes.
import { readFileSync } from 'node:fs';

export function summariseProfile(file, top = 25) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  // Leave out the harness starting and stopping the profiler itself.
  const excluded = new Set();
  const exclude = (node) => {
    excluded.add(node.id);
    for (const c of node.children ?? []) exclude(byId.get(c));
  };
  for (const n of profile.nodes) {
    const { functionName, url } = n.callFrame;
    if (url.endsWith('bench/lib/child.mjs') && (functionName === 'startProfiler' || functionName === 'stopInto')) exclude(n);
  }
  const self = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    if (excluded.has(id)) continue;
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const byFunction = new Map();
  const byPackage = new Map();
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    const pkg = packageOf(url, functionName);
    const key = `${functionName || '(anonymous)'} ${shortUrl(url)}${url ? `:${lineNumber + 1}` : ''}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
  }
  // Shares are of busy time: the sampled time minus (idle).
  const busy = total - (byPackage.get('(idle)') ?? 0);
  byFunction.delete('(idle) ');
  byPackage.delete('(idle)');
  const rank = (m) =>
    [...m].sort((a, b) => b[1] - a[1]).map(([name, us]) => ({ name, ms: us / 1000, pct: (100 * us) / busy }));
  return { totalMs: total / 1000, busyMs: busy / 1000, functions: rank(byFunction).slice(0, top), packages: rank(byPackage) };
}

function shortUrl(url) {
  if (!url) return '';
  const ours = /nestjs-taskqueue-bench\/(?:dist-\w+|ab\/[^/]+)\/(.*)$/.exec(url);
  if (ours) return `ours:${ours[1]}`;
  const i = url.lastIndexOf('node_modules/');
  if (i >= 0) return url.slice(i + 'node_modules/'.length);
  return url.replace(/^file:\/\/.*\/bench\//, 'bench/');
}

function packageOf(url, fn) {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  if (url.includes('/node_modules/.cache/nestjs-taskqueue-bench/')) return 'nestjs-taskqueue';
  if (url.startsWith('node:')) return 'node core';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1];
  if (url.includes('/bench/')) return 'bench harness';
  return url;
}

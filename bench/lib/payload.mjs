// The one payload every library carries: a ~110-byte JSON object whose `seq` lets workers
// check that each job ran exactly once.
const PAD = 'x'.repeat(64);

export function makePayload(seq) {
  const p = { seq, user: `u-${String(seq).padStart(7, '0')}`, op: 'bench.noop', at: 1700000000000, pad: '' };
  const bare = JSON.stringify(p).length;
  p.pad = PAD.slice(0, Math.max(0, 110 - bare));
  return p;
}

export function payloadBytes() {
  return JSON.stringify(makePayload(12345)).length;
}

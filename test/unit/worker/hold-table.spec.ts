import { describe, expect, it } from '@jest/globals';
import { HoldTable, SLOT_BYTES } from '../../../lib/worker/hold-table.js';

/** What the lease-keeper thread reads (same layout): key -> ids, held slots only. */
function readAll(table: HoldTable): Record<string, string[]> {
  const { buffer, keys, slots } = table.shared();
  const ints = new Int32Array(buffer);
  const out: Record<string, string[]> = {};
  for (let slot = 0; slot < slots; slot++) {
    const at = (slot * SLOT_BYTES) / 4;
    if (((ints[at] as number) & 1) === 0) continue;
    const start = slot * SLOT_BYTES + 12;
    const id = new TextDecoder().decode(new Uint8Array(buffer).slice(start, start + (ints[at + 2] as number)));
    (out[keys[ints[at + 1] as number] as string] ??= []).push(id);
  }
  for (const ids of Object.values(out)) ids.sort();
  return out;
}

describe('HoldTable: the holds a worker shares with its lease-keeper thread', () => {
  it('publishes holds and releases, per active key, ids in UTF-8', () => {
    const table = new HoldTable(['a:active', 'b:active'], 8);
    const first = table.hold('a:active', 'id-1');
    expect(first).toBeGreaterThanOrEqual(0);
    expect(table.hold('b:active', 'zäh-✓')).toBeGreaterThanOrEqual(0);
    expect(table.hold('a:active', 'id-2')).toBeGreaterThanOrEqual(0);
    expect(readAll(table)).toEqual({ 'a:active': ['id-1', 'id-2'], 'b:active': ['zäh-✓'] });
    table.release(first);
    expect(readAll(table)).toEqual({ 'a:active': ['id-2'], 'b:active': ['zäh-✓'] });
  });

  it('counts a task held twice: the first release keeps the second hold', () => {
    const table = new HoldTable(['q'], 4);
    const first = table.hold('q', 'x');
    const second = table.hold('q', 'x');
    expect(second).not.toBe(first);
    table.release(first);
    expect(readAll(table)).toEqual({ q: ['x'] });
    table.release(second);
    expect(readAll(table)).toEqual({});
  });

  it('refuses what it cannot take (full, unknown key, too long), so the caller posts it instead', () => {
    const table = new HoldTable(['q'], 2);
    const one = table.hold('q', '1');
    expect(one).toBeGreaterThanOrEqual(0);
    expect(table.hold('q', '2')).toBeGreaterThanOrEqual(0);
    expect(table.hold('q', '3')).toBe(-1);
    expect(table.hold('other', '1')).toBe(-1);
    table.release(one);
    expect(table.hold('q', '€'.repeat(201))).toBe(-1);
    expect(table.hold('q', '3')).toBeGreaterThanOrEqual(0);
    expect(readAll(table)).toEqual({ q: ['2', '3'] });
  });
});

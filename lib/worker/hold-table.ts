/**
 * The tasks a worker holds leases on, in memory shared with its lease-keeper thread: a hold is
 * a few plain writes here, where posting it to the thread would cost a message and a wake-up
 * of the thread per turn of the event loop. The thread reads the table when it renews.
 *
 * Layout (lease-keeper.thread.mjs reads it; keep the two in step): `slots` slots of SLOT_BYTES
 * bytes; per slot three int32 (state, key index, id length in bytes), then the id in UTF-8.
 * The state counts changes: odd while the slot is held, even while free. A writer fills a free
 * slot and then makes it odd; the reader takes a slot only if it reads the same odd state
 * before and after copying it out.
 */
const HEADER_INTS = 3;
/** Task ids are at most 200 UTF-16 units (see Producer.build): at most 600 bytes of UTF-8. */
export const MAX_ID_BYTES = 600;
export const SLOT_BYTES = HEADER_INTS * 4 + MAX_ID_BYTES;

export interface SharedHoldTable {
  buffer: SharedArrayBuffer;
  keys: readonly string[];
  slots: number;
  slotBytes: number;
}

const encoder = new TextEncoder();

export class HoldTable {
  private readonly buffer: SharedArrayBuffer;
  private readonly ints: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly keyIndex: Map<string, number>;
  private readonly free: number[] = [];

  constructor(
    private readonly keys: readonly string[],
    private readonly slots: number,
  ) {
    this.buffer = new SharedArrayBuffer(slots * SLOT_BYTES);
    this.ints = new Int32Array(this.buffer);
    this.bytes = new Uint8Array(this.buffer);
    this.keyIndex = new Map(keys.map((k, i) => [k, i]));
    for (let slot = slots - 1; slot >= 0; slot--) this.free.push(slot);
  }

  shared(): SharedHoldTable {
    return { buffer: this.buffer, keys: this.keys, slots: this.slots, slotBytes: SLOT_BYTES };
  }

  /**
   * Returns the slot that holds it, for release(); -1 when the table cannot take it (full, or a
   * key it does not know): the caller posts it instead. A task held twice (see Worker.prepare)
   * takes two slots, so each hold is released on its own.
   */
  hold(key: string, id: string): number {
    const k = this.keyIndex.get(key);
    if (k === undefined) return -1;
    const slot = this.free.pop();
    if (slot === undefined) return -1;
    const base = slot * SLOT_BYTES;
    const { read, written } = encoder.encodeInto(id, this.bytes.subarray(base + HEADER_INTS * 4, base + SLOT_BYTES));
    if (read < id.length) {
      this.free.push(slot);
      return -1;
    }
    const at = base / 4;
    this.ints[at + 1] = k;
    this.ints[at + 2] = written;
    Atomics.add(this.ints, at, 1); // even -> odd: held, published after the data above
    return slot;
  }

  release(slot: number): void {
    Atomics.add(this.ints, (slot * SLOT_BYTES) / 4, 1); // odd -> even: free
    this.free.push(slot);
  }
}

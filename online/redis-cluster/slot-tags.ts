import { keySlot } from './key-slot.ts';

let table: string[] | null = null;

/**
 * A short hash tag that Redis Cluster maps to `slot`, so a key `…{tag}…` lives in that slot
 * (the per-slot stream checkpoints). The table of all 16 384 slots is built once (~160k CRC16s).
 *
 * @example
 * keySlot(`x:{${slotTag(42)}}`) === 42;
 */
export function slotTag(slot: number): string {
  if (!table) {
    const t: string[] = new Array(16384);
    let found = 0;
    for (let i = 0; found < 16384; i++) {
      const tag = i.toString(36);
      const s = keySlot(tag);
      if (t[s] === undefined) {
        t[s] = tag;
        found++;
      }
    }
    table = t;
  }
  return table[slot]!;
}

/**
 * What every appended record carries besides its fields, on every offline store: the origin it
 * came from, its offset there and when the store took it. Readers of the source ignore these
 * fields (unknown fields are ignored on every path, `definitions/source-record.ts`).
 */
import type { AppendOrigin } from '../offline-store.ts';

export const ORIGIN_FIELD = '_larder_origin';
export const OFFSET_FIELD = '_larder_offset';
export const INGESTED_AT_FIELD = '_larder_ingested_at';

/** `kafka:<topic>:<partition>` or `push:<id>`: the key offsets are counted under. */
export function originId(origin: AppendOrigin): string {
  return origin.kind === 'stream'
    ? `kafka:${origin.topic}:${origin.partition}`
    : `push:${origin.id}`;
}

/** Offsets must strictly increase: the high-water mark then says what is already stored. */
export function checkAscending(records: readonly { offset: number }[]): void {
  for (let i = 0; i < records.length; i++) {
    const o = records[i]!.offset;
    if (!Number.isSafeInteger(o) || o < 0 || (i > 0 && o <= records[i - 1]!.offset))
      throw new Error(`appended offsets must be ascending non-negative integers (at ${i}: ${o})`);
  }
}

/**
 * A list column's repetition and definition levels (offline/parquet/append-columns.ts), written
 * straight from the offsets into packed groups, are byte for byte what the value-by-value
 * encoding wrote — one `Int32Array` of levels per kind, hybrid-encoded 8 values at a time, kept
 * below as the reference — on random list columns: null elements, empty lists, long runs of
 * either, 1–200 items a row, string codes and numbers, any row range.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeListLevels } from '../../offline/parquet/append-columns.ts';

/** The hybrid encoding of `values` at `width` bits, as the writer's group-by-group scheme. */
function referenceHybrid(values: Int32Array, width: number, out: number[]): void {
  const rle = (count: number, value: number): void => {
    let c = count * 2;
    while (c >= 0x80) {
      out.push((c & 0x7f) | 0x80);
      c >>>= 7;
    }
    out.push(c, value);
  };
  let header = -1;
  let groups = 0;
  let rleValue = 0;
  let rleCount = 0;
  for (let i = 0; i < values.length; i += 8) {
    const k = Math.min(8, values.length - i);
    const v = values[i]!;
    let j = 1;
    while (j < k && values[i + j] === v) j++;
    if (j === k) {
      if (rleCount > 0 && rleValue === v) {
        rleCount += k;
        continue;
      }
      if (header >= 0) {
        out[header] = (groups << 1) | 1;
        header = -1;
        groups = 0;
      }
      if (rleCount > 0) rle(rleCount, rleValue);
      rleValue = v;
      rleCount = k;
      continue;
    }
    if (rleCount > 0) {
      rle(rleCount, rleValue);
      rleCount = 0;
    }
    if (header < 0) header = out.push(0) - 1;
    let acc = 0;
    let bits = 0;
    for (j = 0; j < 8; j++) {
      acc |= (j < k ? values[i + j]! : 0) << bits;
      bits += width;
      while (bits >= 8) {
        out.push(acc & 0xff);
        acc >>>= 8;
        bits -= 8;
      }
    }
    if (++groups === 63) {
      out[header] = (63 << 1) | 1;
      header = -1;
      groups = 0;
    }
  }
  if (header >= 0) out[header] = (groups << 1) | 1;
  if (rleCount > 0) rle(rleCount, rleValue);
}

/** The levels as they were written: an array of each kind, then each encoded with its length. */
function referenceLevels(
  offsets: Int32Array,
  items: Float64Array,
  r0: number,
  n: number,
): Uint8Array {
  const rep: number[] = [];
  const def: number[] = [];
  for (let r = r0; r < r0 + n; r++) {
    const from = offsets[r]!;
    const to = offsets[r + 1]!;
    if (from === to) {
      rep.push(0);
      def.push(1);
      continue;
    }
    for (let j = from; j < to; j++) {
      rep.push(j === from ? 0 : 1);
      def.push(Number.isNaN(items[j]!) ? 2 : 3);
    }
  }
  const out: number[] = [];
  for (const [levels, width] of [
    [rep, 1],
    [def, 2],
  ] as const) {
    const body: number[] = [];
    referenceHybrid(Int32Array.from(levels), width, body);
    const len = body.length;
    out.push(len & 0xff, (len >>> 8) & 0xff, (len >>> 16) & 0xff, len >>> 24);
    for (const byte of body) out.push(byte);
  }
  return Uint8Array.from(out);
}

/** A random list column: runs of rows of one kind (empty, full, short, null-heavy, long). */
function randomColumn(
  seed: number,
  rows: number,
  maxLen: number,
  pNull: number,
  strings: boolean,
): { offsets: Int32Array; items: Float64Array } {
  let s = seed >>> 0;
  const r = (): number => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const offsets = new Int32Array(rows + 1);
  const items: number[] = [];
  let row = 0;
  while (row < rows) {
    const run = 1 + Math.floor(r() * (r() < 0.2 ? 2000 : 12));
    const kind = Math.floor(r() * 5);
    for (let k = 0; k < run && row < rows; k++, row++) {
      const len =
        kind === 0
          ? 0
          : kind === 1
            ? maxLen
            : kind === 4
              ? Math.floor(r() * 2)
              : Math.floor(r() * (maxLen + 1));
      const p = kind === 3 ? Math.max(pNull, 0.5) : pNull;
      for (let j = 0; j < len; j++)
        items.push(r() < p ? NaN : strings ? Math.floor(r() * 40) : (r() - 0.5) * 1e6);
      offsets[row + 1] = items.length;
    }
  }
  return { offsets, items: Float64Array.from(items) };
}

describe('list column levels', () => {
  it('are byte for byte the value-by-value encoding on random list columns', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.integer({ min: 1, max: 4000 }),
        fc.constantFrom(1, 2, 5, 10, 200),
        fc.constantFrom(0, 0.01, 0.3, 1),
        fc.boolean(),
        fc.integer({ min: 0, max: 100 }),
        (seed, rows, maxLen, pNull, strings, cut) => {
          const { offsets, items } = randomColumn(seed, rows, maxLen, pNull, strings);
          // A row range inside the column, as a row group is.
          const r0 = Math.floor((rows * cut) / 200);
          const n = Math.max(1, rows - r0 - Math.floor((rows * cut) / 300));
          const got = encodeListLevels(offsets, items, r0, n);
          expect(Buffer.from(got).equals(Buffer.from(referenceLevels(offsets, items, r0, n)))).toBe(
            true,
          );
        },
      ),
      { numRuns: 400 },
    );
  });

  it('cover the edge cases: one row, all empty, all null, every length around a group of 8', () => {
    const cases: number[][] = [[0], [1], [8], [9], [0, 0, 0], [7, 0, 1], [16, 16, 0, 15]];
    for (const lens of cases)
      for (const pNull of [0, 1])
        for (const hole of [-1, 0, 3]) {
          const offsets = Int32Array.from([
            0,
            ...lens.map((_, i) => lens.slice(0, i + 1).reduce((a, b) => a + b, 0)),
          ]);
          const items = Float64Array.from({ length: offsets[lens.length]! }, (_, j) =>
            pNull === 1 || j === hole ? NaN : j,
          );
          const got = encodeListLevels(offsets, items, 0, lens.length);
          expect([...got]).toEqual([...referenceLevels(offsets, items, 0, lens.length)]);
        }
  });
});

/**
 * Inputs shared by several features of a sweep: a cached index file that several columns name
 * is read (and widened) once and the columns share its array (`readIndexFiles`), and the
 * session features of one input share their rows' session figures (`SequenceContext`) — with
 * the same values as each feature over its own copy of the input.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { MINUTE_MS } from '../../core/duration.ts';
import { readIndexFiles, type IndexFiles } from '../../offline/sweep/index-files.ts';
import type { PassIndex, SweepColumn } from '../../offline/sweep/pass-index.ts';
import { sweepFeatures, type SweepFeature } from '../../offline/sweep/sweep.ts';

const dir = mkdtempSync(join(tmpdir(), 'larder-sweep-shared-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readIndexFiles', () => {
  it('reads a file several columns name once, and widens codes with their null markers to NaN', () => {
    const write = (name: string, a: ArrayBufferView): string => {
      const path = join(dir, name);
      writeFileSync(path, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
      return path;
    };
    const ts = write('ts', Float64Array.of(1, 2, 3, 4));
    const u8 = write('c.u8', Uint8Array.of(0, 255, 2, 1));
    const i32 = write('c.i32', Int32Array.of(-1, 70_000, 0, -1));
    const f64 = write('s.f64', Float64Array.of(3, 2, 5, 4));
    const file = (path: string, type: 'f64' | 'i32' | 'u8') => ({ path, type, length: 4 });
    const files: IndexFiles = {
      keyCount: 1,
      offsets: { path: write('offsets', Int32Array.of(0, 4)), type: 'i32', length: 2 },
      ts: file(ts, 'f64'),
      dup: file(write('dup', new Uint8Array(4)), 'u8'),
      columns: [
        ['a', { kind: 'values', values: file(u8, 'u8'), dict: ['x', 'y', 'z'] }],
        ['b', { kind: 'values', values: file(u8, 'u8'), dict: ['x', 'y', 'z'] }],
        ['c', { kind: 'values', values: file(i32, 'i32'), dict: null }],
        ['d', { kind: 'values', values: file(f64, 'f64'), dict: null }],
        ['e', { kind: 'values', values: file(f64, 'f64'), dict: null }],
        ['f', { kind: 'values', values: 'ts', dict: null }],
      ],
    };
    const index = readIndexFiles(files);
    const values = (name: string): Float64Array => {
      const c = index.columns.get(name)!;
      if (c.kind !== 'values') throw new Error(name);
      return c.values;
    };
    expect([...values('a')]).toEqual([0, NaN, 2, 1]);
    expect(values('b')).toBe(values('a'));
    expect([...values('c')]).toEqual([NaN, 70_000, 0, NaN]);
    expect(values('e')).toBe(values('d'));
    expect([...values('d')]).toEqual([3, 2, 5, 4]);
    expect(values('f')).toBe(index.ts);
  });
});

describe('session features of one input', () => {
  const G = 5 * MINUTE_MS;
  const KINDS = [
    ['session_count', 60 * MINUTE_MS],
    ['session_avg_duration', 60 * MINUTE_MS],
    ['session_count', 30 * MINUTE_MS],
    ['current_session_count', null],
    ['current_session_duration', null],
  ] as const;
  const features = (cols: string[]): SweepFeature[] =>
    KINDS.map(([kind, windowMs], i) => ({
      col: cols[i]!,
      aggregation: kind,
      windowMs,
      hopMs: windowMs === null ? null : MINUTE_MS,
      ttlMs: null,
      sequence: { previous: null, gapMs: G, ttlMs: 120 * MINUTE_MS },
    }));

  it('equal each feature over its own copy of the input', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            key: fc.integer({ min: 0, max: 2 }),
            ts: fc.integer({ min: 0, max: 180 * MINUTE_MS }),
            match: fc.boolean(),
          }),
          { maxLength: 60 },
        ),
        fc.array(
          fc.record({
            key: fc.integer({ min: -1, max: 2 }),
            t: fc.integer({ min: 0, max: 200 * MINUTE_MS }),
          }),
          { minLength: 1, maxLength: 30 },
        ),
        (events, rows) => {
          const sorted = [...events].sort((a, b) => a.key - b.key || a.ts - b.ts);
          const offsets = new Int32Array(4);
          for (const e of sorted) offsets[e.key + 1]!++;
          for (let k = 0; k < 3; k++) offsets[k + 1]! += offsets[k]!;
          // Encoded as the index keeps a sequence input: (code + 1) * 2 + match, no code.
          const encoded = Float64Array.from(sorted, (e) => (e.match ? 1 : 0));
          const base = {
            keyCount: 3,
            offsets,
            ts: Float64Array.from(sorted, (e) => e.ts),
            dup: new Uint8Array(sorted.length),
          };
          const shared: PassIndex = {
            ...base,
            columns: new Map<string, SweepColumn>(
              KINDS.map((_, i) => [`f${i}`, { kind: 'values', values: encoded, dict: null }]),
            ),
          };
          const own: PassIndex = {
            ...base,
            columns: new Map<string, SweepColumn>(
              KINDS.map((_, i) => [
                `f${i}`,
                { kind: 'values', values: encoded.slice(), dict: null },
              ]),
            ),
          };
          const r = {
            codes: Int32Array.from(rows, (x) => x.key),
            ts: Float64Array.from(rows, (x) => x.t),
          };
          const cols = KINDS.map((_, i) => `f${i}`);
          const a = sweepFeatures(shared, features(cols), r);
          features(cols).forEach((f) => {
            const b = sweepFeatures(own, [f], r);
            expect([...a.get(f.col)!.values]).toEqual([...b.get(f.col)!.values]);
          });
        },
      ),
      { numRuns: 200 },
    );
  });
});

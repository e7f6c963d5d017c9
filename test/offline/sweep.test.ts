/**
 * Property: the sweep (offline/sweep/sweep.ts) equals the brute-force reference evaluator for
 * every aggregation (last_n's lists and count_distinct included), on random histories with duplicate timestamps, replayed ids, skipped
 * inputs, keys without events and rows before any data (and on dense ones, with neither skipped
 * inputs nor replays); times cluster on hop edges.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bruteForceLifetime,
  bruteForceWindow,
  compareCodePoints,
  floatsEqual,
  type AggregationEvent,
} from '../../aggregation/index.ts';
import type { AggregationKind, Scalar } from '../../core/types.ts';
import type { PassIndex, SweepColumn } from '../../offline/sweep/pass-index.ts';
import {
  IndexFileError,
  type FileColumn,
  type IndexFile,
  type IndexFiles,
} from '../../offline/sweep/index-files.ts';
import { SweepPool } from '../../offline/sweep/sweep-pool.ts';
import { sweepFeatures, type SweepFeature } from '../../offline/sweep/sweep.ts';

const H = 60_000;
const KEYS = 4;
const VALUES = ['a', 'b', 'ab', 'B', '\u{1F600}', '\uFF5E'];

const time = fc.oneof(
  fc.constantFrom(H, 2 * H + 1, 3 * H - 1),
  fc.integer({ min: 0, max: 40 * H }),
  fc
    .tuple(fc.integer({ min: 0, max: 40 }), fc.constantFrom(-1, 0, 1))
    .map(([k, d]) => Math.max(0, k * H + d)),
);

interface Ev {
  key: number;
  ts: number;
  id: string;
  /** Per feature: null = skipped (filtered out or null input). */
  num: number | null;
  str: string | null;
  counts: boolean;
  weight: number;
}

const evArb = fc.record({
  key: fc.integer({ min: 0, max: KEYS - 1 }),
  ts: time,
  id: fc.constantFrom('e1', 'e2', 'e10', 'e9'),
  num: fc.option(fc.integer({ min: -50, max: 50 }).map((n) => n / 4)),
  str: fc.option(fc.constantFrom(...VALUES)),
  counts: fc.boolean(),
  weight: fc.constantFrom(1, 2, 3, 0.5, -1),
});

const featureArb = fc.record({
  aggregation: fc.constantFrom<AggregationKind>(
    'count',
    'sum',
    'avg',
    'min',
    'max',
    'last',
    'mode',
    'count_distinct',
    'last_n',
  ),
  n: fc.integer({ min: 1, max: 4 }),
  distinct: fc.boolean(),
  hops: fc.integer({ min: 1, max: 6 }),
  hop: fc.constantFrom(H, 5 * H),
  lifetime: fc.boolean(),
  strings: fc.boolean(),
  ttl: fc.constantFrom(0, H, 10 * H),
});

/** The index a store would build: events by (key, ts, id), dictionary-coded strings. */
function buildIndex(events: Ev[], strings: boolean): { index: PassIndex; sorted: Ev[] } {
  const sorted = [...events].sort(
    (a, b) => a.key - b.key || a.ts - b.ts || compareCodePoints(a.id, b.id),
  );
  const dict = [...new Set(sorted.flatMap((e) => (e.str === null ? [] : [e.str])))].sort(
    compareCodePoints,
  );
  const offsets = new Int32Array(KEYS + 1);
  for (const e of sorted) offsets[e.key + 1]!++;
  for (let k = 0; k < KEYS; k++) offsets[k + 1]! += offsets[k]!;
  const columns = new Map<string, SweepColumn>();
  columns.set('count', { kind: 'flags', flags: Uint8Array.from(sorted, (e) => Number(e.counts)) });
  columns.set('num', {
    kind: 'values',
    values: Float64Array.from(sorted, (e) => e.num ?? NaN),
    dict: null,
  });
  columns.set('str', {
    kind: 'values',
    values: Float64Array.from(sorted, (e) => (e.str === null ? NaN : dict.indexOf(e.str))),
    dict,
  });
  const items = sorted.filter((e) => (strings ? e.str : e.num) !== null);
  const itemDict = [...new Set(items.map((e) => String(strings ? e.str : e.num)))].sort(
    compareCodePoints,
  );
  const itemOffsets = new Int32Array(KEYS + 1);
  for (const e of items) itemOffsets[e.key + 1]!++;
  for (let k = 0; k < KEYS; k++) itemOffsets[k + 1]! += itemOffsets[k]!;
  columns.set('mode', {
    kind: 'items',
    offsets: itemOffsets,
    ts: Float64Array.from(items, (e) => e.ts),
    codes: Int32Array.from(items, (e) => itemDict.indexOf(String(strings ? e.str : e.num))),
    weights: Float64Array.from(items, (e) => e.weight),
    dict: itemDict,
  });
  const dup = Uint8Array.from(sorted, (e, i) =>
    Number(
      i > 0 &&
        sorted[i - 1]!.key === e.key &&
        sorted[i - 1]!.ts === e.ts &&
        sorted[i - 1]!.id === e.id,
    ),
  );
  return {
    index: { keyCount: KEYS, offsets, ts: Float64Array.from(sorted, (e) => e.ts), dup, columns },
    sorted,
  };
}

describe('sweepFeatures', () => {
  it('equals the brute-force reference for every aggregation', () => {
    fc.assert(
      fc.property(
        fc.array(evArb, { maxLength: 60, size: 'large' }),
        fc.array(fc.record({ key: fc.integer({ min: -1, max: KEYS }), t: time }), {
          minLength: 1,
          maxLength: 30,
        }),
        featureArb,
        // Dense histories (no skipped input, no replayed id) take `last`'s fast path.
        fc.boolean(),
        (history, rows, fa, dense) => {
          const events = dense
            ? history.map((e, i) => ({
                ...e,
                id: `d${i}`,
                num: e.num ?? i / 4,
                str: e.str ?? VALUES[i % VALUES.length]!,
              }))
            : history;
          const lifetime = fa.aggregation === 'last' && fa.lifetime;
          const strings = fa.strings && fa.aggregation !== 'sum' && fa.aggregation !== 'avg';
          const col =
            fa.aggregation === 'count'
              ? 'count'
              : fa.aggregation === 'mode'
                ? 'mode'
                : strings
                  ? 'str'
                  : 'num';
          const { index } = buildIndex(events, strings);
          const f: SweepFeature = {
            col,
            aggregation: fa.aggregation,
            windowMs: lifetime ? null : fa.hop * fa.hops,
            hopMs: lifetime ? null : fa.hop,
            ttlMs: lifetime ? fa.ttl : null,
            ...(fa.aggregation === 'last_n' ? { n: fa.n, distinct: fa.distinct } : {}),
          };
          const res = sweepFeatures(index, [f], {
            codes: Int32Array.from(rows, (r) => (r.key >= KEYS ? -1 : r.key)),
            ts: Float64Array.from(rows, (r) => r.t),
          }).get(col)!;
          rows.forEach((row, i) => {
            const mine: AggregationEvent[] = events
              .filter((e) => e.key === row.key && (fa.aggregation !== 'count' || e.counts))
              .map((e) => ({
                ts: e.ts,
                id: e.id,
                value: fa.aggregation === 'count' ? null : strings ? e.str : e.num,
                weight: e.weight,
              }));
            const want = lifetime
              ? bruteForceLifetime(mine, row.t, fa.ttl)
              : bruteForceWindow(fa.aggregation, mine, row.t, fa.hop * fa.hops, fa.hop, {
                  n: fa.n,
                  distinct: fa.distinct,
                });
            if (res.lists) {
              const { offsets, items } = res.lists;
              const list = Array.from(items.subarray(offsets[i]!, offsets[i + 1]!), (x) =>
                res.dict ? res.dict[x]! : x,
              );
              expect(list, `row ${i} ${JSON.stringify(row)}`).toEqual(want);
              return;
            }
            const got: Scalar | null = !Number.isNaN(res.values[i])
              ? res.dict
                ? res.dict[res.values[i]!]!
                : res.values[i]!
              : null;
            if (typeof want === 'number' && typeof got === 'number')
              expect(floatsEqual(got, want), `row ${i}: ${got} vs ${want}`).toBe(true);
            else if (fa.aggregation === 'mode' && !strings && got !== null)
              expect(String(Number(got)), `row ${i}`).toBe(want);
            else expect(got, `row ${i} ${JSON.stringify(row)}`).toEqual(want);
          });
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('sweepFeatures with many rows a key', () => {
  it('sorts them by time (packed native sort; comparator for fractional times) as the reference expects', () => {
    // 1500 rows on 5 keys (-1 = none): hundreds a key, many on equal times.
    const [events] = fc.sample(fc.array(evArb, { minLength: 120, maxLength: 120 }), {
      numRuns: 1,
      seed: 5,
    });
    const [specs] = fc.sample(
      fc.array(fc.record({ key: fc.integer({ min: -1, max: KEYS - 1 }), t: time }), {
        minLength: 1500,
        maxLength: 1500,
      }),
      { numRuns: 1, seed: 6 },
    );
    const { index } = buildIndex(events!, true);
    const features: SweepFeature[] = [
      { col: 'count', aggregation: 'count', windowMs: 5 * H, hopMs: H, ttlMs: null },
      { col: 'num', aggregation: 'sum', windowMs: 3 * H, hopMs: H, ttlMs: null },
      { col: 'str', aggregation: 'last_n', windowMs: 10 * H, hopMs: H, ttlMs: null, n: 3 },
    ];
    // Integer times (the packed sort), then some a quarter ms later (the comparator sort).
    for (const shift of [0, 0.25]) {
      const ts = Float64Array.from(specs!, (r, i) => r.t + (i % 7 === 0 ? shift : 0));
      const res = sweepFeatures(index, features, {
        codes: Int32Array.from(specs!, (r) => r.key),
        ts,
      });
      const mismatch: unknown[] = [];
      specs!.forEach((row, i) => {
        if (row.key < 0) return;
        for (const f of features) {
          const mine: AggregationEvent[] = events!
            .filter((e) => e.key === row.key && (f.aggregation !== 'count' || e.counts))
            .map((e) => ({
              ts: e.ts,
              id: e.id,
              value: f.col === 'count' ? null : f.col === 'str' ? e.str : e.num,
              weight: e.weight,
            }));
          const want = bruteForceWindow(
            f.aggregation as AggregationKind,
            mine,
            ts[i]!,
            f.windowMs!,
            f.hopMs!,
            {
              n: 3,
              distinct: false,
            },
          );
          const r = res.get(f.col)!;
          const got = r.lists
            ? Array.from(
                r.lists.items.subarray(r.lists.offsets[i]!, r.lists.offsets[i + 1]!),
                (x) => (r.dict ? r.dict[x]! : x),
              )
            : Number.isNaN(r.values[i]!)
              ? null
              : r.values[i]!;
          const same =
            typeof want === 'number' && typeof got === 'number'
              ? floatsEqual(got, want)
              : JSON.stringify(got) === JSON.stringify(want);
          if (!same) mismatch.push({ shift, row: i, feature: f.col, got, want });
        }
      });
      expect(mismatch.slice(0, 3)).toEqual([]);
    }
  });
});

describe('SweepPool', () => {
  it('returns on worker threads what the inline sweep returns', async () => {
    const pool = SweepPool.create(2);
    try {
      const samples = fc.sample(
        fc.tuple(
          fc.array(evArb, { minLength: 1, maxLength: 60, size: 'large' }),
          fc.array(fc.record({ key: fc.integer({ min: -1, max: KEYS - 1 }), t: time }), {
            minLength: 1,
            maxLength: 30,
          }),
        ),
        { numRuns: 20, seed: 11 },
      );
      for (const [events, rowSpecs] of samples) {
        const features: SweepFeature[] = [
          { col: 'count', aggregation: 'count', windowMs: 5 * H, hopMs: H, ttlMs: null },
          { col: 'num', aggregation: 'avg', windowMs: 3 * H, hopMs: H, ttlMs: null },
          { col: 'str', aggregation: 'last', windowMs: null, hopMs: null, ttlMs: 10 * H },
          { col: 'mode', aggregation: 'mode', windowMs: 10 * H, hopMs: 5 * H, ttlMs: null },
        ];
        const rows = {
          codes: Int32Array.from(rowSpecs, (r) => r.key),
          ts: Float64Array.from(rowSpecs, (r) => r.t),
        };
        const inline = sweepFeatures(buildIndex(events, true).index, features, rows);
        const pooled = await pool.sweep({ index: buildIndex(events, true).index }, features, rows);
        expect(pooled).toEqual(inline);
      }
      expect(pool.mode).toBe('workers');
    } finally {
      await pool.close();
    }
  });

  it('reads a cached index where it sweeps; an unreadable file rejects with IndexFileError', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'larder-sweep-files-'));
    const [events, rowSpecs] = fc.sample(
      fc.tuple(
        fc.array(evArb, { minLength: 1, maxLength: 80, size: 'large' }),
        fc.array(fc.record({ key: fc.integer({ min: -1, max: KEYS - 1 }), t: time }), {
          minLength: 1,
          maxLength: 40,
        }),
      ),
      { numRuns: 1, seed: 5 },
    )[0]!;
    const features: SweepFeature[] = [
      { col: 'count', aggregation: 'count', windowMs: 5 * H, hopMs: H, ttlMs: null },
      { col: 'num', aggregation: 'max', windowMs: 3 * H, hopMs: H, ttlMs: null },
      { col: 'str', aggregation: 'last', windowMs: null, hopMs: null, ttlMs: 10 * H },
      { col: 'mode', aggregation: 'mode', windowMs: 10 * H, hopMs: 5 * H, ttlMs: null },
    ];
    const rows = {
      codes: Int32Array.from(rowSpecs, (r) => r.key),
      ts: Float64Array.from(rowSpecs, (r) => r.t),
    };
    const expected = sweepFeatures(buildIndex(events, true).index, features, rows);
    const files = writeIndexFiles(dir, buildIndex(events, true).index);
    const pools = [SweepPool.create(2), SweepPool.create(1)];
    try {
      for (const pool of pools) {
        // Rows may come after the worker has started reading.
        const later = new Promise<typeof rows>((resolve) => setTimeout(() => resolve(rows), 20));
        expect(await pool.sweep({ files }, features, later)).toEqual(expected);
        const broken = structuredClone(files);
        broken.columns.find(([c]) => c === 'num')![1] = {
          kind: 'values',
          values: { path: join(dir, 'missing'), type: 'f64', length: 3 },
          dict: null,
        };
        await expect(pool.sweep({ files: broken }, features, rows)).rejects.toBeInstanceOf(
          IndexFileError,
        );
        const short = structuredClone(files);
        short.ts.length = short.ts.length! + 1;
        await expect(pool.sweep({ files: short }, features, rows)).rejects.toThrow(
          /p\.ts has \d+ bytes, expected/,
        );
      }
      expect(pools.map((p) => p.mode)).toEqual(['workers', 'inline']);
    } finally {
      await Promise.all(pools.map((p) => p.close()));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('SweepPool worker bundle', () => {
  const sweepOne = async (pool: SweepPool): Promise<Map<string, unknown>> =>
    pool.sweep(
      { index: buildIndex([], false).index },
      [{ col: 'count', aggregation: 'count', windowMs: H, hopMs: H, ttlMs: null }],
      { codes: Int32Array.of(0), ts: Float64Array.of(H) },
    );

  it('is kept in the cache directory, rebuilt when a bundled file changed or is another checkout’s, used when not', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'larder-bundle-'));
    try {
      // A fresh directory: bundled, then kept with the hash of every bundled file.
      const fresh = join(dir, 'fresh');
      const pool = SweepPool.create(2, fresh);
      expect((await sweepOne(pool)).get('count')).toEqual({
        values: Float64Array.of(0),
        dict: null,
      });
      expect(pool.mode).toBe('workers');
      await pool.close();
      const kept = JSON.parse(readFileSync(join(fresh, 'sweep-worker.json'), 'utf8')) as {
        inputs: Record<string, string>;
        code: string;
      };
      const names = Object.keys(kept.inputs).map((p) => p.split('/').slice(-2).join('/'));
      expect(names).toEqual(expect.arrayContaining(['sweep/sweep.ts', 'sweep/sweep-worker.ts']));

      // A stale entry (a file's hash differs) is not used: the pool bundles again.
      const stale = join(dir, 'stale');
      mkdirSync(stale);
      const [first] = Object.keys(kept.inputs);
      writeFileSync(
        join(stale, 'sweep-worker.json'),
        JSON.stringify({
          inputs: { ...kept.inputs, [first!]: 'old' },
          code: 'throw new Error("stale")',
        }),
      );
      const rebuilt = SweepPool.create(2, stale);
      expect((await sweepOne(rebuilt)).has('count')).toBe(true);
      expect(rebuilt.mode).toBe('workers');
      await rebuilt.close();

      // A current entry is used as it is (here: a worker that refuses every job).
      const current = join(dir, 'current');
      mkdirSync(current);
      const refuse = `const { parentPort } = require('node:worker_threads');
        parentPort.on('message', (m) => parentPort.postMessage({ id: m.id, error: 'cached bundle' }));
        parentPort.postMessage({ ready: true });`;
      writeFileSync(
        join(current, 'sweep-worker.json'),
        JSON.stringify({ inputs: kept.inputs, code: refuse }),
      );
      const cached = SweepPool.create(2, current);
      await expect(sweepOne(cached)).rejects.toThrow(/cached bundle/);
      await cached.close();

      // An entry bundled from another checkout (a shared home): its files match it, but it is
      // not this checkout's code, so the pool bundles its own.
      const shared = join(dir, 'shared');
      const other = join(dir, 'other-checkout/offline/sweep');
      mkdirSync(other, { recursive: true });
      const otherInputs = Object.fromEntries(
        Object.keys(kept.inputs).map((p) => {
          const copy = join(other, p.split('/').slice(-1)[0]!);
          writeFileSync(copy, readFileSync(p));
          return [copy, kept.inputs[p]!];
        }),
      );
      mkdirSync(shared);
      writeFileSync(
        join(shared, 'sweep-worker.json'),
        JSON.stringify({ inputs: otherInputs, code: refuse }),
      );
      const own = SweepPool.create(2, shared);
      expect((await sweepOne(own)).has('count')).toBe(true);
      await own.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Writes each array of `index` to its own file in `dir` (the index cache's layout). */
function writeIndexFiles(dir: string, index: PassIndex): IndexFiles {
  const put = (name: string, a: Float64Array | Int32Array | Uint8Array): IndexFile => {
    const path = join(dir, name);
    writeFileSync(path, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    const type = a instanceof Float64Array ? 'f64' : a instanceof Int32Array ? 'i32' : 'u8';
    return { path, type, length: a.length };
  };
  const columns: IndexFiles['columns'] = [...index.columns].map(
    ([name, c]): [string, FileColumn] => [
      name,
      c.kind === 'flags'
        ? { kind: 'flags', flags: put(`${name}.flags`, c.flags) }
        : c.kind === 'values'
          ? { kind: 'values', values: put(`${name}.values`, c.values), dict: c.dict }
          : {
              kind: 'items',
              offsets: put(`${name}.offsets`, c.offsets),
              ts: { ...put(`${name}.ts`, c.ts), length: null },
              codes: { ...put(`${name}.codes`, c.codes), length: null },
              weights: { ...put(`${name}.weights`, c.weights), length: null },
              dict: c.dict,
            },
    ],
  );
  return {
    keyCount: index.keyCount,
    offsets: put('p.offsets', index.offsets),
    ts: put('p.ts', index.ts),
    dup: put('p.dup', index.dup),
    columns,
  };
}

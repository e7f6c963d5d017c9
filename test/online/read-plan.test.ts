/**
 * ReadPlan.evaluate (the online read path, with its count/sum fast path and its cache of parsed
 * tiles) against the aggregation library's `evaluateTiles` over the same stored tiles.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  aggregator,
  buildTiles,
  evaluateTiles,
  windowHops,
  type AggregationKind,
} from '../../aggregation/index.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../core/duration.ts';
import type { FeatureViewSpec } from '../../definitions/spec.ts';
import type { Scalar, ValueType } from '../../core/types.ts';
import { readPlan, type ReadPlan } from '../../online/read-plan.ts';
import { tileExpiry, ViewCatalog, viewWritePlan } from '../../online/view-catalog.ts';
import { encodeTile, mergeOps } from '../../online/write-batch.ts';
import { feature } from './test-views.ts';
import { sequenceCase, sequences } from './sequence-cases.ts';

const H1 = MINUTE_MS;
const H2 = 10 * MINUTE_MS;
const FEATURES: [string, AggregationKind, ValueType, number, number][] = [
  ['c_5m', 'count', 'int64', 5 * H1, H1],
  ['c_30m', 'count', 'int64', 30 * H1, H1],
  ['s_30m', 'sum', 'float64', 30 * H1, H1],
  ['a_30m', 'avg', 'float64', 30 * H1, H1],
  ['min_30m', 'min', 'float64', 30 * H1, H1],
  ['max_2h', 'max', 'float64', 2 * HOUR_MS, H2],
  ['s_2h', 'sum', 'float64', 2 * HOUR_MS, H2],
  ['c_1h', 'count', 'int64', HOUR_MS, H2],
  ['mode_2h', 'mode', 'string', 2 * HOUR_MS, H2],
  ['last_2h', 'last', 'string', 2 * HOUR_MS, H2],
];
const VIEW: FeatureViewSpec = {
  kind: 'feature_view',
  name: 'props',
  entities: ['user'],
  keys: {},
  source: 'events',
  filter: null,
  ttlMs: HOUR_MS,
  online: true,
  features: FEATURES.map((f) => feature(...f)),
  description: '',
};

const T0 = Date.parse('2024-03-10T12:00:00Z');

const eventArb = fc.record({
  ts: fc.integer({ min: T0 - 3 * HOUR_MS, max: T0 + HOUR_MS }),
  id: fc.constantFrom('a', 'b', 'c', 'd'),
  num: fc.oneof(fc.integer({ min: -50, max: 50 }), fc.double({ min: -1e6, max: 1e6, noNaN: true })),
  cat: fc.constantFrom('books', 'toys', 'home', null),
});

/**
 * The stored tiles of the `wanted` features of FEATURES over `events`' numbers, one field per
 * feature and hop (`<hop size>:<hop>`, its state as JSON).
 */
function numberTiles(
  events: readonly { ts: number; id: string; num: number }[],
  wanted: readonly string[],
): { field: string; value: string; hopMs: number; hop: number }[] {
  const out: { field: string; value: string; hopMs: number; hop: number }[] = [];
  for (const [name, kind, , , hopMs] of FEATURES) {
    if (!wanted.includes(name)) continue;
    const tiles = buildTiles(
      kind,
      events.map((e) => ({ ts: e.ts, id: e.id, value: e.num as Scalar })),
      hopMs,
    );
    for (const [hop, state] of tiles)
      out.push({ field: `${hopMs}:${hop}`, value: JSON.stringify({ [name]: state }), hopMs, hop });
  }
  return out;
}

/**
 * A read at `t` by a store whose clock says `now`, of an entity holding `fields` ([field, value,
 * expiry]): `evaluatePairs` over every stored field equals `evaluate` over only the fields not
 * expired at `now` (an entity whose stored fields are all expired is read with `exists`: the
 * stores answer NOT_FOUND for it, their conformance suite checks). Returns that answer.
 */
function expectClockRead(
  plan: ReadPlan,
  t: number,
  now: number,
  fields: readonly (readonly [string, string, number])[],
): ReturnType<ReadPlan['evaluate']> {
  const live = fields.filter(([, , expiry]) => expiry > now);
  const expected = plan.evaluate(
    t,
    live.map(([f]) => f),
    live.map(([, v]) => v),
    fields.length > 0,
  );
  expect(
    plan.evaluatePairs(
      t,
      fields.flatMap(([f, v]) => [f, v]),
      now,
    ),
  ).toEqual(expected);
  return expected;
}

describe('ReadPlan.evaluate', () => {
  it('equals evaluateTiles over the stored tiles, for every kind, with and without the parse cache', () => {
    fc.assert(
      fc.property(
        fc.array(eventArb, { maxLength: 60 }),
        fc.integer({ min: T0 - HOUR_MS, max: T0 + HOUR_MS }),
        fc.subarray(
          FEATURES.map((f) => f[0]),
          { minLength: 1 },
        ),
        fc.integer(),
        (events, t, wanted, shuffleSeed) => {
          const past = events.filter((e) => e.ts <= t);
          // Stored tiles: per (hop size, hop) one JSON object of the states of that hop size.
          const stored = new Map<string, Record<string, unknown>>();
          const byFeature = new Map<string, Map<number, unknown>>();
          for (const [name, kind, , , hopMs] of FEATURES) {
            const tiles = buildTiles(
              kind,
              past.map((e) => ({
                ts: e.ts,
                id: e.id,
                value: (kind === 'mode' || kind === 'last' ? e.cat : e.num) as Scalar | null,
              })),
              hopMs,
            );
            byFeature.set(name, tiles);
            for (const [k, state] of tiles) {
              const field = `${hopMs}:${k}`;
              const tile = stored.get(field) ?? {};
              tile[name] = state;
              stored.set(field, tile);
            }
          }
          // A random stored order, plus a lifetime-looking field and a field of no group.
          const entries = [...stored].map(([f, tile]) => [f, JSON.stringify(tile)] as const);
          let s = shuffleSeed >>> 0;
          for (let i = entries.length - 1; i > 0; i--) {
            s = (Math.imul(s, 1103515245) + 12345) >>> 0;
            const j = s % (i + 1);
            [entries[i], entries[j]] = [entries[j]!, entries[i]!];
          }
          const fields = [...entries.map((e) => e[0]), 'l:other', '7:1'];
          const values = [...entries.map((e) => e[1]), 'null', '{}'];
          const plan = readPlan({ view: VIEW, features: wanted, entityKeys: ['u'], t });
          for (let round = 0; round < 2; round++) {
            const row = plan.evaluate(
              t,
              fields,
              values.map((v) => (' ' + v).slice(1)),
            );
            const pairs = fields.flatMap((f, i) => [f, values[i]!]);
            expect(plan.evaluatePairs(t, pairs)).toEqual(row);
            // The same as one joined text, through the plan's cache of texts per entity key
            // (three keys shared by every run: texts cached at other times, changed texts).
            const joined = pairs.join('\n');
            expect(plan.evaluateJoined(t, `e${shuffleSeed % 3}`, joined)).toEqual(row);
            if (entries.length === 0 && round === 0) continue;
            wanted.forEach((name, i) => {
              const [, kind, , windowMs, hopMs] = FEATURES.find((f) => f[0] === name)!;
              // evaluateTiles over the tiles in stored order, parsed from their JSON.
              const tiles: [number, unknown][] = [];
              for (const [field, json] of entries) {
                if (!field.startsWith(`${hopMs}:`)) continue;
                const tile = JSON.parse(json) as Record<string, unknown>;
                if (Object.hasOwn(tile, name))
                  tiles.push([Number(field.split(':')[1]), tile[name]]);
              }
              const expected = evaluateTiles(aggregator(kind), tiles, t, windowMs, hopMs);
              const { first, last } = windowHops(t, windowMs, hopMs);
              const inWindow = tiles.map(([k]) => k).filter((k) => k >= first && k <= last);
              expect(row[i]!.value).toStrictEqual(expected);
              expect(row[i]!.status).toBe(expected === null ? 'NULL_VALUE' : 'PRESENT');
              expect(row[i]!.eventTs).toBe(
                inWindow.length === 0 ? null : Math.max(...inWindow) * hopMs,
              );
            });
          }
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('selects the fields a read needs: fieldNames has every hop of each window, fieldRanges covers them', () => {
    const view: FeatureViewSpec = {
      ...VIEW,
      name: 'props_with_lifetime',
      features: [
        ...VIEW.features,
        feature('life_a', 'last', 'string', null, null),
        feature('life_b', 'last', 'int64', null, null),
      ],
    };
    const names = view.features.map((f) => f.name);
    /** A valid partial state of feature `name` (one event at `t - 1`). */
    const stateOf = (name: string, t: number): unknown => {
      const kind = view.features.find((f) => f.name === name)!.aggregation;
      if (kind === 'avg') return { sum: 2, count: 1 };
      if (kind === 'mode') return { books: 1 };
      if (kind === 'last') return { v: 'x', ts: t - 1, id: 'a' };
      return 2;
    };
    const inRange = (x: string, ranges: readonly { lo: string; hi: string }[]) =>
      ranges.some((r) => r.lo <= x && x <= r.hi);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.integer({ min: T0 - 3 * HOUR_MS, max: T0 + HOUR_MS }),
          // Hop numbers crossing a power of ten (string order ≠ numeric order) and below 0.
          fc.integer({ min: 10_000 * H1 - 3 * HOUR_MS, max: 10_000 * H1 + 3 * HOUR_MS }),
          fc.integer({ min: -3 * HOUR_MS, max: 3 * HOUR_MS }),
        ),
        fc.subarray(names, { minLength: 1 }),
        fc.array(fc.boolean(), { maxLength: 200 }),
        (t, wanted, present) => {
          const plan = readPlan({ view, features: wanted, entityKeys: ['u'], t });
          const fields = plan.fieldNames(t);
          const ranges = plan.fieldRanges(t);
          expect(new Set(fields).size).toBe(fields.length);
          for (const f of fields) expect(inRange(f, ranges), f).toBe(true);
          for (const name of wanted) {
            const f = view.features.find((x) => x.name === name)!;
            if (f.windowMs === null || f.hopMs === null) {
              expect(fields).toContain(`l:${name}`);
              continue;
            }
            const { first, last } = windowHops(t, f.windowMs, f.hopMs);
            for (let k = first; k <= last; k++) expect(fields).toContain(`${f.hopMs}:${k}`);
          }
          // Exactly those: per hop size the hops of its widest window, and the lifetime fields
          // (the plan is shared across `t`s, so names built for an earlier `t` must not linger).
          const want = new Set<string>();
          const widest = new Map<number, number>();
          for (const name of wanted) {
            const f = view.features.find((x) => x.name === name)!;
            if (f.windowMs === null || f.hopMs === null) want.add(`l:${name}`);
            else widest.set(f.hopMs, Math.max(widest.get(f.hopMs) ?? 0, f.windowMs));
          }
          for (const [hopMs, windowMs] of widest) {
            const { first, last } = windowHops(t, windowMs, hopMs);
            for (let k = first; k <= last; k++) want.add(`${hopMs}:${k}`);
          }
          expect(new Set(fields)).toEqual(want);
          // An HMGET-shaped reply (nulls where absent) evaluates like the present fields alone.
          const values = fields.map((f, i) =>
            present[i % Math.max(1, present.length)]
              ? f.startsWith('l:')
                ? JSON.stringify({ v: f.length, ts: t - 1, id: 'a' })
                : JSON.stringify(Object.fromEntries(wanted.map((n) => [n, stateOf(n, t)])))
              : null,
          );
          const kept = fields.filter((_, i) => values[i] !== null);
          const keptValues = values.filter((v): v is string => v !== null);
          expect(plan.evaluateSelected(t, [1, ...values], 1, true)).toEqual(
            plan.evaluate(t, kept, keptValues, true),
          );
          // The same values as one text (`""` where absent, as lua/read-entities.lua answers a
          // field group's key), through the plan's cache of rows per entity key: shared by
          // every run (rows cached for other field lists and texts), read twice.
          if (kept.length > 0) {
            const joined = values.map((v) => v ?? '').join('\n');
            for (let round = 0; round < 2; round++)
              expect(plan.evaluateSelectedJoined(t, `e${present.length % 3}`, joined)).toEqual(
                plan.evaluate(t, kept, keptValues, true),
              );
            // A whole-hash row of the same entity key is not taken for a row of values.
            const pairs = kept.flatMap((f, i) => [f, keptValues[i]!]).join('\n');
            expect(plan.evaluateJoined(t, `e${present.length % 3}`, pairs)).toEqual(
              plan.evaluate(t, kept, keptValues, true),
            );
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('evaluateJoined reads the same past its cache bound (rows of ~100 KB for 120 entity keys, in cycles, then changed)', () => {
    const plan = readPlan({ view: VIEW, features: ['c_30m', 'max_2h'], entityKeys: ['u'], t: T0 });
    const h1 = Math.floor(T0 / H1);
    // Rounds 0–3 read the same texts in a cycle larger than the bound (a full cache keeps its
    // rows); rounds 4–7 every text changed each round (no read finds its row: it starts afresh).
    for (let round = 0; round < 8; round++)
      for (let e = 0; e < 120; e++) {
        const v = round < 4 ? e : e + 1000 * round;
        // ~2,000 tiles each, most outside the windows; the last 40 minutes' tiles count v + 1.
        const pairs: string[] = [];
        for (let k = h1 - 2000; k <= h1; k++)
          pairs.push(`${H1}:${k}`, JSON.stringify({ c_30m: k > h1 - 40 ? v + 1 : 7 }));
        pairs.push(`${H2}:${Math.floor(T0 / H2)}`, JSON.stringify({ max_2h: v }));
        const row = plan.evaluateJoined(T0, `big${e}`, pairs.join('\n'));
        expect(row).toEqual(plan.evaluatePairs(T0, pairs));
        expect(row.map((x) => x.value)).toEqual([30 * (v + 1), v]);
      }
  });

  it('evaluateJoined of one cached row at times in any order (hop edges, lifetime ts and ts + TTL) equals evaluatePairs at each', () => {
    const view: FeatureViewSpec = {
      ...VIEW,
      features: [...VIEW.features, feature('last_seen', 'last', 'string', null, null)],
    };
    const names = ['c_5m', 'a_30m', 'max_2h', 'last_seen'];
    const ts = T0 - 30 * H1 + 17;
    const edges = [T0, T0 - 1, ts - 1, ts, ts + 1, ts + HOUR_MS, ts + HOUR_MS + 1];
    const at = fc.oneof(
      fc.constantFrom(...edges),
      fc.integer({ min: T0 - 2 * HOUR_MS, max: T0 + 2 * HOUR_MS }),
      fc.integer({ min: 0, max: 40 }).map((k) => Math.floor(T0 / H1) * H1 + (k - 20) * H1),
    );
    fc.assert(
      fc.property(
        fc.array(eventArb, { maxLength: 30 }),
        fc.array(at, { minLength: 1, maxLength: 12 }),
        fc.subarray(names, { minLength: 1 }),
        fc.constantFrom<string | null>('"x"', 'null', null),
        (events, times, wanted, v) => {
          const pairs = numberTiles(events, wanted).flatMap(({ field, value }) => [field, value]);
          if (v !== null) pairs.push('l:last_seen', `{"v":${v},"ts":${ts},"id":"e1"}`);
          const plan = readPlan({ view, features: wanted, entityKeys: ['u'], t: T0 });
          const joined = pairs.join('\n');
          for (const t of times) {
            const row = plan.evaluateJoined(t, 'memo', joined);
            expect(row).toEqual(plan.evaluatePairs(t, pairs));
            // Kept while nothing moved (an entity without fields reads a fresh NOT_FOUND row).
            if (pairs.length > 0) expect(plan.evaluateJoined(t, 'memo', joined)).toBe(row);
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it("reads at t with the store clock's now equal reads of only the fields not expired at now (tileExpiry, ts + TTL + 1), cached or not", () => {
    const view: FeatureViewSpec = {
      ...VIEW,
      features: [...VIEW.features, feature('last_seen', 'last', 'string', null, null)],
    };
    const write = viewWritePlan(view);
    const names = ['c_5m', 'a_30m', 'max_2h', 'last_seen'];
    const ts = T0 - 30 * H1 + 17;
    const at = fc.oneof(
      fc.constantFrom(T0, T0 - 1, ts, ts + HOUR_MS, ts + HOUR_MS + 1),
      fc.integer({ min: T0 - 2 * HOUR_MS, max: T0 + 2 * HOUR_MS }),
    );
    // now: the read's t, later (the read at a past t) or earlier, edges of expiry included.
    const clock = fc.oneof(
      fc.constantFrom(0, 1, -1, HOUR_MS, 2 * HOUR_MS, 2 * HOUR_MS + H1),
      fc.integer({ min: -HOUR_MS, max: 3 * HOUR_MS }),
    );
    fc.assert(
      fc.property(
        fc.array(eventArb, { maxLength: 30 }),
        fc.array(fc.tuple(at, clock), { minLength: 1, maxLength: 12 }),
        fc.subarray(names, { minLength: 1 }),
        fc.boolean(),
        (events, reads, wanted, lifetime) => {
          // name, value, expiry
          const fields: [string, string, number][] = numberTiles(events, wanted).map(
            ({ field, value, hopMs, hop }) => [field, value, tileExpiry(write, hopMs, hop)],
          );
          if (lifetime)
            fields.push(['l:last_seen', `{"v":"x","ts":${ts},"id":"e1"}`, ts + HOUR_MS + 1]);
          const plan = readPlan({ view, features: wanted, entityKeys: ['u'], t: T0 });
          const joined = fields.flatMap(([f, v]) => [f, v]).join('\n');
          for (const [t, delta] of reads) {
            const now = t + delta;
            const expected = expectClockRead(plan, t, now, fields);
            expect(plan.evaluateJoined(t, 'e', joined, now)).toEqual(expected);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("sequence features at t with the store clock's now equal reads of only their tiles not expired at now", () => {
    const write = viewWritePlan(sequences);
    const { batches } = sequenceCase(T0, 8, 20_001);
    // Every event's tiles merged per field, as a store holds them (no clock: none left out).
    const entities = mergeOps(new ViewCatalog([sequences]), batches.flat(), [], -Infinity).map(
      (e) =>
        [...e.fields.values()].map((f) => {
          if (f.kind !== 'tile') throw new Error('a sequence view stores tiles only');
          return [f.field, encodeTile(write, f.states), f.expiresAt] as const;
        }),
    );
    const plan = readPlan({
      view: sequences,
      features: sequences.features.map((f) => f.name),
      entityKeys: ['u'],
      t: T0,
    });
    fc.assert(
      fc.property(
        fc.integer({ min: -3 * DAY_MS, max: HOUR_MS }),
        fc.integer({ min: -HOUR_MS, max: 3 * DAY_MS }),
        (back, ahead) => {
          const t = T0 + back;
          const now = t + ahead;
          for (const fields of entities) {
            expectClockRead(plan, t, now, fields);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('leaves cached parses untouched (a second read of the same JSON gives the same values)', () => {
    const field = `${H2}:${Math.floor(T0 / H2)}`;
    const json = JSON.stringify({ mode_2h: { toys: 2 }, last_2h: { v: 'x', ts: T0, id: 'a' } });
    const plan = readPlan({
      view: VIEW,
      features: ['mode_2h', 'last_2h'],
      entityKeys: ['u'],
      t: T0,
    });
    const a = plan.evaluate(T0, [field, field], [json, json]);
    const b = plan.evaluate(T0, [field, field], [json, json]);
    expect(a).toEqual(b);
    expect(a.map((v) => v.value)).toEqual(['toys', 'x']);
  });
});

describe('ReadPlan.fieldRanges', () => {
  it('never overlap, also when sequence and windowed features share a hop (a field read twice counts twice); fieldSpan covers them all', () => {
    const view: FeatureViewSpec = {
      ...sequences,
      features: [
        ...sequences.features,
        feature('clicks_1h', 'count', 'int64', HOUR_MS, MINUTE_MS),
        feature('clicks_2h', 'count', 'int64', 2 * HOUR_MS, HOUR_MS),
        feature('last_kind', 'last', 'string', null, null),
      ],
    };
    const names = view.features.map((f) => f.name);
    fc.assert(
      fc.property(
        fc.subarray(names, { minLength: 1 }),
        fc.integer({ min: 0, max: 4e12 }),
        (wanted, t) => {
          const ranges = [
            ...readPlan({ view, features: wanted, entityKeys: ['u'], t }).fieldRanges(t),
          ];
          ranges.sort((a, b) => (a.lo < b.lo ? -1 : a.lo > b.lo ? 1 : 0));
          for (let i = 1; i < ranges.length; i++)
            expect(ranges[i]!.lo > ranges[i - 1]!.hi, JSON.stringify(ranges)).toBe(true);
          // fieldSpan: the one range from the first range's start to the last one's end.
          const span = readPlan({ view, features: wanted, entityKeys: ['u'], t }).fieldSpan(t);
          const his = ranges.map((r) => r.hi).sort();
          expect(span).toEqual({ lo: ranges[0]!.lo, hi: his[his.length - 1] });
        },
      ),
    );
  });
});

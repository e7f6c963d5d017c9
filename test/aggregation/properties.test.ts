import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  AGGREGATION_KINDS,
  aggregator,
  bruteForceLifetime,
  bruteForceWindow,
  buildTiles,
  evaluateLifetime,
  evaluateTiles,
  floatsEqual,
  windowHops,
  type AggregationEvent,
  type AggregationKind,
  type LastState,
} from '../../aggregation/index.ts';
import { MINUTE_MS } from '../../core/duration.ts';
import type { AggregationParams, FeatureValue, Scalar } from '../../core/types.ts';

const RUNS = 1000; // per kind and property
const T0 = Date.parse('2024-03-10T00:00:00Z');

/** A window: H in whole minutes, W = H × 1..8. */
const windowArb = fc.record({
  hopMs: fc.constantFrom(1, 2, 5, 60).map((m) => m * MINUTE_MS),
  ratio: fc.integer({ min: 1, max: 8 }),
});

/** An offset in hops from T0, biased to land on or next to hop boundaries. */
function timeArb(hopMs: number, hops: number): fc.Arbitrary<number> {
  const within = fc.oneof(
    fc.constant(0),
    fc.constant(1),
    fc.constant(hopMs - 1),
    fc.integer({ min: 0, max: hopMs - 1 }),
  );
  return fc.tuple(fc.integer({ min: 0, max: hops }), within).map(([k, d]) => T0 + k * hopMs + d);
}

/** Few distinct ids, astral characters included, so ties in ts are broken by code point order. */
const idArb = fc.string({
  unit: fc.constantFrom('a', 'b', 'A', '\uFF5E', '\u{1F600}'),
  minLength: 1,
  maxLength: 3,
});

const tricky = ['a', 'b', 'B', '\uFF5E', '\u{1F600}', '\u{1F601}', '10', '9'];

/** Values of one type per run (a feature has one value type), null mixed in. */
function valueArb(kind: AggregationKind): fc.Arbitrary<fc.Arbitrary<Scalar | null>> {
  const cents = fc.integer({ min: -100_000, max: 100_000 }).map((c) => c / 100);
  const ints = fc.integer({ min: -5, max: 5 });
  const strs = fc.string({ unit: fc.constantFrom(...tricky), maxLength: 2 });
  // Above the input limit (1e300): null on every path, so sums never overflow.
  const huge = fc.oneof(
    { weight: 4, arbitrary: cents },
    { weight: 1, arbitrary: fc.constantFrom(1e308, Number.MAX_VALUE, -Number.MAX_VALUE) },
  );
  const withNull = (a: fc.Arbitrary<Scalar>) => fc.option(a, { freq: 4, nil: null });
  switch (kind) {
    case 'count':
      return fc.constant(fc.constant(null));
    case 'sum':
    case 'avg':
      return fc.constantFrom(withNull(cents), withNull(ints), withNull(huge));
    case 'mode':
    case 'count_distinct':
      return fc.constantFrom(
        withNull(fc.constantFrom(...tricky)),
        withNull(ints),
        withNull(fc.boolean()),
        withNull(huge),
      );
    default:
      return fc.constantFrom(
        withNull(cents),
        withNull(huge),
        withNull(ints),
        withNull(strs),
        withNull(fc.boolean()),
      );
  }
}

interface Case {
  kind: AggregationKind;
  events: AggregationEvent[];
  t: number;
  windowMs: number;
  hopMs: number;
  /** `last_n`'s `n` (1..12: often more than the window's events) and `distinct`. */
  params: AggregationParams;
}

const paramsArb: fc.Arbitrary<AggregationParams> = fc.record({
  n: fc.integer({ min: 1, max: 12 }),
  distinct: fc.boolean(),
});

function caseArb(kind: AggregationKind): fc.Arbitrary<Case> {
  return fc.tuple(windowArb, valueArb(kind)).chain(([{ hopMs, ratio }, values]) => {
    const span = ratio + 3;
    const event = fc.record({
      ts: timeArb(hopMs, span),
      id: idArb,
      value: values,
      weight: fc.option(fc.integer({ min: -3, max: 5 }), { nil: undefined }),
    });
    return fc.record({
      kind: fc.constant(kind),
      events: fc.array(event, { maxLength: 40 }),
      t: timeArb(hopMs, span),
      windowMs: fc.constant(ratio * hopMs),
      hopMs: fc.constant(hopMs),
      params: paramsArb,
    });
  });
}

function expectSame(
  kind: AggregationKind,
  actual: FeatureValue | null,
  expected: FeatureValue | null,
): void {
  if (
    (kind === 'sum' || kind === 'avg') &&
    typeof actual === 'number' &&
    typeof expected === 'number'
  ) {
    expect(floatsEqual(actual, expected), `${actual} vs ${expected}`).toBe(true);
  } else if (kind === 'last_n') {
    expect(actual).toEqual(expected);
  } else {
    expect(actual).toBe(expected);
  }
}

const json = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

describe.each(AGGREGATION_KINDS)('%s', (kind) => {
  it('evaluateTiles over tiles of the events ≤ t equals the brute-force reference', () => {
    fc.assert(
      fc.property(caseArb(kind), ({ events, t, windowMs, hopMs, params }) => {
        const tiles = buildTiles(
          kind,
          events.filter((e) => e.ts <= t),
          hopMs,
          params,
        );
        const agg = aggregator(kind, params);
        const expected = bruteForceWindow(kind, events, t, windowMs, hopMs, params);
        expectSame(kind, evaluateTiles(agg, tiles, t, windowMs, hopMs), expected);
        expectSame(kind, evaluateTiles(agg, json([...tiles]), t, windowMs, hopMs), expected);
      }),
      { seed: 42, numRuns: RUNS },
    );
  });

  it('merging the window tiles in any order and grouping, through JSON, gives the same value', () => {
    const shape = fc.record({
      order: fc.array(fc.nat(), { minLength: 16, maxLength: 16 }),
      cuts: fc.array(fc.boolean(), { minLength: 16, maxLength: 16 }),
      pairs: fc.array(fc.nat(), { minLength: 16, maxLength: 16 }),
    });
    fc.assert(
      fc.property(
        caseArb(kind),
        shape,
        ({ events, t, windowMs, hopMs, params }, { order, cuts, pairs }) => {
          const agg = aggregator(kind, params);
          const { first, last } = windowHops(t, windowMs, hopMs);
          const past = events.filter((e) => e.ts <= t);
          const states = [...buildTiles(kind, past, hopMs, params)]
            .filter(([k]) => k >= first && k <= last)
            .map(([, s]) => s);
          // A random permutation.
          const perm = states
            .map((s, i) => ({ s, key: order[i % order.length]! * 16 + i }))
            .sort((a, b) => a.key - b.key)
            .map(({ s }) => json(s));
          // Random contiguous groups, each folded left from its first state.
          const groups: unknown[] = [];
          perm.forEach((s, i) => {
            if (i === 0 || cuts[i % cuts.length]) groups.push(s);
            else groups[groups.length - 1] = agg.merge(groups[groups.length - 1], s);
          });
          // Then a random merge tree over the (JSON round-tripped) group states.
          let level = groups.map(json);
          let p = 0;
          while (level.length > 1) {
            const i = pairs[p++ % pairs.length]! % (level.length - 1);
            const swap = pairs[p % pairs.length]! % 2 === 1;
            const [x, y] = swap ? [level[i + 1], level[i]] : [level[i], level[i + 1]];
            level = [...level.slice(0, i), json(agg.merge(x, y)), ...level.slice(i + 2)];
          }
          const merged = level.length === 0 ? agg.init() : level[0];
          expectSame(
            kind,
            agg.finish(merged),
            bruteForceWindow(kind, events, t, windowMs, hopMs, params),
          );
        },
      ),
      { seed: 4242, numRuns: RUNS },
    );
  });
});

describe('lifetime', () => {
  it('evaluateLifetime of the folded last state equals bruteForceLifetime', () => {
    const ttlArb = fc.integer({ min: 0, max: 6 }).map((h) => h * MINUTE_MS);
    fc.assert(
      fc.property(caseArb('last'), ttlArb, ({ events, t }, ttl) => {
        const agg = aggregator('last');
        let state = agg.init();
        for (const e of events.filter((x) => x.ts <= t))
          state = agg.add(state, e.value, e.ts, e.id, 1);
        const actual = evaluateLifetime(json(state) as LastState | null, t, ttl);
        expect(actual).toBe(bruteForceLifetime(events, t, ttl));
      }),
      { seed: 99, numRuns: 2 * RUNS },
    );
  });
});

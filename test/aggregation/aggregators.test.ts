import { describe, it, expect } from 'vitest';
import {
  AGGREGATION_KINDS,
  aggregator,
  avgAggregator,
  countAggregator,
  countDistinctAggregator,
  lastNAggregator,
  lastAggregator,
  maxAggregator,
  minAggregator,
  modeAggregator,
  sumAggregator,
  type AggregationEvent,
  type AggregationKind,
} from '../../aggregation/index.ts';
import { MAX_LAST_N, type FeatureValue, type Scalar } from '../../core/types.ts';

/** `last_n`'s parameters in the tests that run every kind (the other kinds ignore them). */
const PARAMS = { n: 3 };

/** Folds events into one state with the kind's aggregator. */
function fold(kind: AggregationKind, events: AggregationEvent[]): unknown {
  const agg = aggregator(kind, PARAMS);
  let s = agg.init();
  for (const e of events) s = agg.add(s, e.value, e.ts, e.id, e.weight ?? 1);
  return s;
}

function finish(kind: AggregationKind, events: AggregationEvent[]): FeatureValue | null {
  return aggregator(kind, PARAMS).finish(fold(kind, events));
}

/** Events with ts = index, id = `e<index>`. */
function evs(...values: (Scalar | null)[]): AggregationEvent[] {
  return values.map((value, i) => ({ ts: i, id: `e${i}`, value }));
}

const jsonRoundTrip = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

describe('aggregator factory', () => {
  it('returns the aggregator of each kind', () => {
    expect(aggregator('count')).toBe(countAggregator);
    expect(aggregator('sum')).toBe(sumAggregator);
    expect(aggregator('avg')).toBe(avgAggregator);
    expect(aggregator('min')).toBe(minAggregator);
    expect(aggregator('max')).toBe(maxAggregator);
    expect(aggregator('last')).toBe(lastAggregator);
    expect(aggregator('mode')).toBe(modeAggregator);
    for (const kind of AGGREGATION_KINDS) expect(aggregator(kind, PARAMS).kind).toBe(kind);
  });

  it('rejects unknown kinds, including Object.prototype names', () => {
    expect(() => aggregator('median' as AggregationKind)).toThrow(RangeError);
    expect(() => aggregator('toString' as AggregationKind)).toThrow(RangeError);
  });

  it('init returns a fresh state each call', () => {
    const a = avgAggregator.init();
    avgAggregator.add(a, 5, 0, 'x', 1);
    expect(avgAggregator.init()).toEqual({ sum: 0, count: 0 });
    const m = modeAggregator.init();
    modeAggregator.add(m, 'a', 0, 'x', 1);
    expect(modeAggregator.init()).toEqual({});
  });
});

describe('empty windows', () => {
  it.each([
    ['count', 0],
    ['sum', 0],
    ['avg', null],
    ['min', null],
    ['max', null],
    ['last', null],
    ['mode', null],
  ] as const)('%s of nothing is %s', (kind, expected) => {
    expect(finish(kind, [])).toBe(expected);
  });

  it.each([
    ['count', 3],
    ['sum', 0],
    ['avg', null],
    ['min', null],
    ['max', null],
    ['last', null],
    ['mode', null],
  ] as const)(
    '%s of only null inputs is %s (nulls are skipped, counted only by count)',
    (kind, expected) => {
      expect(finish(kind, evs(null, null, null))).toBe(expected);
    },
  );
});

describe('count', () => {
  it('counts every record, ignoring value and weight', () => {
    expect(finish('count', evs(null, 1, 'a', false, null))).toBe(5);
    expect(finish('count', [{ ts: 0, id: 'a', value: null, weight: 7 }])).toBe(1);
  });
});

describe('sum and avg', () => {
  it('skip null inputs', () => {
    expect(finish('sum', evs(1, null, 2.5, null))).toBe(3.5);
    expect(finish('avg', evs(1, null, 2, null))).toBe(1.5); // 3 / 2, not 3 / 4
  });

  it('ignore weights', () => {
    expect(finish('sum', [{ ts: 0, id: 'a', value: 2, weight: 10 }])).toBe(2);
    expect(
      finish('avg', [
        { ts: 0, id: 'a', value: 2, weight: 10 },
        { ts: 1, id: 'b', value: 4 },
      ]),
    ).toBe(3);
  });

  it('skip non-finite numbers like null, so states stay JSON', () => {
    expect(finish('sum', evs(1, NaN, Infinity, -Infinity, 2))).toBe(3);
    expect(finish('avg', evs(NaN, 4))).toBe(4);
  });

  it('skip numbers above 1e300 in magnitude like null, so no sum overflows', () => {
    const max = Number.MAX_VALUE;
    expect(finish('sum', evs(max, max, 1e300, -1e300, 1e308, 2))).toBe(2);
    expect(finish('avg', evs(max, -max, 4))).toBe(4);
    expect(finish('sum', evs(max, max))).toBe(0);
    expect(finish('max', evs(max, 3))).toBe(3);
    expect(finish('min', evs(-max, 3))).toBe(3);
    expect(finish('last', evs(3, max))).toBe(3);
    expect(finish('count_distinct', evs(max, 1e308))).toBe(0);
    expect(finish('count', evs(max, max))).toBe(2);
  });

  it('reject non-number inputs', () => {
    expect(() => finish('sum', evs(1, 'x'))).toThrow(TypeError);
    expect(() => finish('avg', evs(true))).toThrow(TypeError);
  });

  it('avg of negative and fractional values', () => {
    expect(finish('avg', evs(-1, -2, -3))).toBe(-2);
    expect(finish('avg', evs(0.5))).toBe(0.5);
  });
});

describe('min and max', () => {
  it('compare numbers numerically', () => {
    expect(finish('min', evs(10, 9, 100))).toBe(9);
    expect(finish('max', evs(10, 9, 100))).toBe(100);
    expect(finish('min', evs(-1, 0, -0.5))).toBe(-1);
  });

  it('compare strings by code point, not locale and not UTF-16 units', () => {
    expect(finish('min', evs('b', 'B', 'a'))).toBe('B');
    expect(finish('max', evs('b', 'B', 'a'))).toBe('b');
    expect(finish('max', evs('\uFF5E', '\u{1F600}', 'z'))).toBe('\u{1F600}');
    expect(finish('min', evs('\u{1F600}', '\uFF5E'))).toBe('\uFF5E');
    expect(finish('min', evs('10', '9'))).toBe('10');
  });

  it('skip nulls and keep a single value', () => {
    expect(finish('min', evs(null, 3, null))).toBe(3);
    expect(finish('max', evs(null, 'x'))).toBe('x');
    expect(finish('max', evs(false, true, null))).toBe(true);
  });
});

describe('last', () => {
  it('takes the value with the greatest ts, regardless of arrival order', () => {
    const events: AggregationEvent[] = [
      { ts: 30, id: 'a', value: 'late' },
      { ts: 10, id: 'z', value: 'early' },
      { ts: 20, id: 'm', value: 'middle' },
    ];
    expect(finish('last', events)).toBe('late');
    expect(finish('last', [...events].reverse())).toBe('late');
  });

  it('breaks ts ties by the greatest id', () => {
    const events: AggregationEvent[] = [
      { ts: 5, id: 'tx-2', value: 'two' },
      { ts: 5, id: 'tx-10', value: 'ten' }, // '1' < '2'
      { ts: 4, id: 'tx-9', value: 'older' },
    ];
    expect(finish('last', events)).toBe('two');
    expect(finish('last', [...events].reverse())).toBe('two');
  });

  it('breaks ts ties by code point order of ids, not UTF-16 order', () => {
    const events: AggregationEvent[] = [
      { ts: 5, id: 'id-\uFF5E', value: 'bmp' },
      { ts: 5, id: 'id-\u{1F600}', value: 'astral' },
    ];
    expect('id-\u{1F600}' > 'id-\uFF5E').toBe(false); // plain JS would pick 'bmp'
    expect(finish('last', events)).toBe('astral');
    expect(finish('last', [...events].reverse())).toBe('astral');
  });

  it('skips null values: the last non-null value wins', () => {
    const events: AggregationEvent[] = [
      { ts: 1, id: 'a', value: 'ios' },
      { ts: 2, id: 'b', value: null },
    ];
    expect(finish('last', events)).toBe('ios');
    expect(fold('last', events)).toEqual({ v: 'ios', ts: 1, id: 'a' });
  });

  it('is deterministic for a replayed id with a different value', () => {
    const a: AggregationEvent = { ts: 1, id: 'dup', value: 'a' };
    const b: AggregationEvent = { ts: 1, id: 'dup', value: 'b' };
    expect(finish('last', [a, b])).toBe('b');
    expect(finish('last', [b, a])).toBe('b');
  });

  it('does not mutate states', () => {
    const s = fold('last', [{ ts: 1, id: 'a', value: 1 }]);
    const frozen = Object.freeze(s);
    expect(lastAggregator.add(frozen as never, 2, 2, 'b', 1)).toEqual({ v: 2, ts: 2, id: 'b' });
    expect(s).toEqual({ v: 1, ts: 1, id: 'a' });
  });
});

describe('mode', () => {
  it('takes the most frequent value', () => {
    expect(finish('mode', evs('a', 'b', 'b', 'c'))).toBe('b');
  });

  it('breaks ties by the smallest value in code point order', () => {
    expect(finish('mode', evs('b', 'a', 'c', 'b', 'a'))).toBe('a');
    expect(finish('mode', evs('b', 'B'))).toBe('B');
    expect(finish('mode', evs('\u{1F600}', '\uFF5E'))).toBe('\uFF5E');
    expect(finish('mode', evs('\uFF5E', '\u{1F600}'))).toBe('\uFF5E');
  });

  it('sums weights per value', () => {
    const events: AggregationEvent[] = [
      { ts: 0, id: '1', value: 'books', weight: 1 },
      { ts: 1, id: '2', value: 'toys', weight: 3 },
      { ts: 2, id: '3', value: 'books', weight: 1 },
      { ts: 3, id: '4', value: 'books', weight: 1 },
      { ts: 4, id: '5', value: 'games', weight: 3 },
    ];
    expect(fold('mode', events)).toEqual({ books: 3, toys: 3, games: 3 });
    expect(finish('mode', events)).toBe('books');
    expect(finish('mode', [...events, { ts: 5, id: '6', value: 'toys', weight: 0.5 }])).toBe(
      'toys',
    );
  });

  it('keeps values whose total weight is zero or negative, picking the maximum total', () => {
    expect(finish('mode', [{ ts: 0, id: '1', value: 'x', weight: 0 }])).toBe('x');
    expect(finish('mode', [{ ts: 0, id: '1', value: 'x', weight: -2 }])).toBe('x');
    const allNegative: AggregationEvent[] = [
      { ts: 0, id: '1', value: 'a', weight: -5 },
      { ts: 1, id: '2', value: 'b', weight: -1 },
      { ts: 2, id: '3', value: 'c', weight: -1 },
    ];
    expect(finish('mode', allNegative)).toBe('b');
    const cancelled: AggregationEvent[] = [
      { ts: 0, id: '1', value: 'a', weight: 2 },
      { ts: 1, id: '2', value: 'a', weight: -2 },
      { ts: 2, id: '3', value: 'b', weight: -1 },
    ];
    expect(finish('mode', cancelled)).toBe('a');
  });

  it('skips null values and rejects non-finite weights', () => {
    expect(finish('mode', evs(null, 'a', null, null))).toBe('a');
    expect(() => finish('mode', [{ ts: 0, id: '1', value: 'a', weight: NaN }])).toThrow(RangeError);
    expect(() => finish('mode', [{ ts: 0, id: '1', value: 'a', weight: Infinity }])).toThrow(
      RangeError,
    );
    expect(finish('mode', [{ ts: 0, id: '1', value: null, weight: NaN }])).toBeNull(); // null wins first
    // Callers skip a value whose weight is above 1e300 in magnitude (as for a null weight).
    expect(() => finish('mode', [{ ts: 0, id: '1', value: 'a', weight: 1e301 }])).toThrow(
      RangeError,
    );
    expect(finish('mode', [{ ts: 0, id: '1', value: 'a', weight: -1e300 }])).toBe('a');
  });

  it('stringifies non-string values consistently', () => {
    expect(finish('mode', evs(1.5, '1.5', 2))).toBe('1.5');
    expect(finish('mode', evs(true, false, true))).toBe('true');
    expect(finish('mode', evs(10, 9, 9, 10))).toBe('10'); // tie: '10' < '9' by code point
  });

  it('handles values that are Object.prototype names, including __proto__', () => {
    const names = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', '__proto__'];
    const s = fold('mode', evs(...names)) as Record<string, number>;
    expect(Object.getPrototypeOf(s)).toBe(Object.prototype);
    expect(Object.keys(s).sort()).toEqual([
      '__proto__',
      'constructor',
      'hasOwnProperty',
      'toString',
    ]);
    expect(modeAggregator.finish(s as never)).toBe('__proto__');
    const back = jsonRoundTrip(s);
    const merged = modeAggregator.merge(modeAggregator.init(), back as never);
    modeAggregator.merge(merged, fold('mode', evs('toString', 'toString')) as never);
    expect(modeAggregator.finish(merged)).toBe('toString');
    expect(({} as Record<string, unknown>)['toString']).toBe(Object.prototype.toString);
  });
});

describe('merge', () => {
  // Three disjoint groups of events per kind; merging their states must equal folding all.
  const groups: Record<AggregationKind, AggregationEvent[][]> = {
    count: [evs(null, null), evs(null), []],
    sum: [evs(1, 2), evs(null, 4), evs(8)],
    avg: [evs(1, 2), evs(null, 6), evs(3)],
    min: [evs('b', 'c'), evs(null), evs('a', '\u{1F600}')],
    max: [evs(3, 1), evs(7), evs(null, -2)],
    last: [
      [{ ts: 5, id: 'b', value: 'x' }],
      [
        { ts: 5, id: 'c', value: 'y' },
        { ts: 6, id: 'a', value: null },
      ],
      [{ ts: 4, id: 'z', value: 'w' }],
    ],
    mode: [
      [{ ts: 0, id: '1', value: 'a', weight: 2 }],
      [
        { ts: 0, id: '2', value: 'b', weight: 1 },
        { ts: 0, id: '3', value: 'b', weight: 1 },
      ],
      [
        { ts: 0, id: '4', value: 'c', weight: -1 },
        { ts: 0, id: '5', value: 'a', weight: 0 },
      ],
    ],
    count_distinct: [evs('a', 'b'), evs(null, 'a'), evs('c')],
    last_n: [
      [
        { ts: 1, id: 'a', value: 'x' },
        { ts: 5, id: 'b', value: 'y' },
      ],
      [
        { ts: 5, id: 'c', value: 'x' },
        { ts: 6, id: 'd', value: null },
      ],
      [
        { ts: 4, id: 'z', value: 'w' },
        { ts: 3, id: 'q', value: 'v' },
      ],
    ],
  };
  const expected: Record<AggregationKind, FeatureValue | null> = {
    count: 3,
    sum: 15,
    avg: 3,
    min: 'a',
    max: 7,
    last: 'y',
    mode: 'a',
    count_distinct: 3,
    last_n: ['x', 'y', 'w'],
  };

  it.each(AGGREGATION_KINDS)(
    '%s: merging group states in any order and grouping equals folding all',
    (kind) => {
      const agg = aggregator(kind, PARAMS);
      const [x, y, z] = groups[kind] as [
        AggregationEvent[],
        AggregationEvent[],
        AggregationEvent[],
      ];
      const s = (events: AggregationEvent[]) => fold(kind, events);
      expect(finish(kind, [...x, ...y, ...z])).toEqual(expected[kind]);
      expect(agg.finish(agg.merge(agg.merge(s(x), s(y)), s(z)))).toEqual(expected[kind]);
      expect(agg.finish(agg.merge(s(x), agg.merge(s(y), s(z))))).toEqual(expected[kind]);
      expect(agg.finish(agg.merge(agg.merge(s(z), s(x)), s(y)))).toEqual(expected[kind]);
      expect(agg.finish(agg.merge(s(y), agg.merge(s(z), s(x))))).toEqual(expected[kind]);
      expect(agg.finish(agg.merge(agg.init(), s(x)))).toEqual(agg.finish(s(x)));
      expect(agg.finish(agg.merge(s(x), agg.init()))).toEqual(agg.finish(s(x)));
    },
  );

  it.each(AGGREGATION_KINDS)('%s: states survive a JSON round trip and still merge', (kind) => {
    const agg = aggregator(kind, PARAMS);
    const [x, y, z] = groups[kind] as [AggregationEvent[], AggregationEvent[], AggregationEvent[]];
    const states = [fold(kind, x), fold(kind, y), fold(kind, z)];
    const stored = states.map(jsonRoundTrip);
    expect(stored).toEqual(states);
    let acc = agg.init();
    for (const s of stored) acc = agg.merge(acc, s);
    expect(agg.finish(acc)).toEqual(expected[kind]);
    // A state read back from JSON can keep folding new events.
    const more = agg.add(jsonRoundTrip(fold(kind, x)), null, 0, 'n', 1);
    expect(
      agg.finish(agg.merge(more, jsonRoundTrip(agg.merge(fold(kind, y), fold(kind, z))))),
    ).toEqual(kind === 'count' ? 4 : expected[kind]);
  });

  it.each(AGGREGATION_KINDS)('%s: merge never mutates its second argument', (kind) => {
    const agg = aggregator(kind, PARAMS);
    const [x, y] = groups[kind] as [AggregationEvent[], AggregationEvent[]];
    const b = fold(kind, y);
    const snapshot = JSON.stringify(b);
    const merged = agg.merge(fold(kind, x), b);
    agg.add(merged, kind === 'count' ? null : (x[0]?.value ?? null), 99, 'zz', 5);
    agg.merge(merged, fold(kind, x));
    expect(JSON.stringify(b)).toBe(snapshot);
  });

  it('state encodings are the documented JSON shapes', () => {
    expect(fold('count', evs(null, 1))).toBe(2);
    expect(fold('sum', evs(1, 2))).toBe(3);
    expect(fold('avg', evs(1, 2, null))).toEqual({ sum: 3, count: 2 });
    expect(fold('min', evs(2, 1))).toBe(1);
    expect(fold('max', [])).toBeNull();
    expect(fold('last', [{ ts: 7, id: 'e', value: 'v' }])).toEqual({ v: 'v', ts: 7, id: 'e' });
    expect(fold('last', [])).toBeNull();
    expect(fold('mode', evs('a', 'b', 'a'))).toEqual({ a: 2, b: 1 });
    expect(fold('count_distinct', evs('b', 'a', null, 'b'))).toEqual(['a', 'b']);
    expect(fold('count_distinct', [])).toEqual([]);
    expect(fold('last_n', evs('a', null, 'b'))).toEqual([
      [2, 'e2', 'b'],
      [0, 'e0', 'a'],
    ]);
  });
});

describe('count_distinct', () => {
  const agg = countDistinctAggregator;

  it('counts distinct non-null values; an empty window is 0', () => {
    expect(agg.finish(agg.init())).toBe(0);
    expect(finish('count_distinct', evs(null, null))).toBe(0);
    expect(finish('count_distinct', evs('p1', 'p2', 'p1', null, 'p3', 'p2'))).toBe(3);
    expect(finish('count_distinct', evs(1, 1.5, 1, -0, 0))).toBe(3); // -0 is 0
  });

  it('keeps its values sorted by code point, astral characters after U+FF5E', () => {
    const s = fold('count_distinct', evs('\u{1F600}', '\uFF5E', 'b', 'a'));
    expect(s).toEqual(['a', 'b', '\uFF5E', '\u{1F600}']);
    expect(agg.merge(['a', '\u{1F600}'], ['a', '\uFF5E'])).toEqual(['a', '\uFF5E', '\u{1F600}']);
  });
});

describe('last_n', () => {
  const e = (ts: number, id: string, value: Scalar | null): AggregationEvent => ({ ts, id, value });
  const take = (n: number, distinct: boolean, events: AggregationEvent[]): FeatureValue | null => {
    const agg = lastNAggregator(n, distinct);
    let s = agg.init();
    for (const x of events) s = agg.add(s, x.value, x.ts, x.id, 1);
    return agg.finish(s);
  };

  it('returns the n newest non-null values, newest first; an empty window is []', () => {
    expect(take(3, false, [])).toEqual([]);
    expect(take(3, false, [e(1, 'a', null)])).toEqual([]);
    const events = [e(1, 'a', 'p1'), e(3, 'c', 'p3'), e(2, 'b', 'p2'), e(4, 'd', null)];
    expect(take(2, false, events)).toEqual(['p3', 'p2']);
    expect(take(10, false, events)).toEqual(['p3', 'p2', 'p1']); // n larger than the events
  });

  it('breaks timestamp ties by the greater id by code point, like last', () => {
    const events = [e(5, '\uFF5E', 'x'), e(5, '\u{1F600}', 'y'), e(5, 'a', 'z')];
    expect(take(3, false, events)).toEqual(['y', 'x', 'z']);
    expect(take(3, false, [...events].reverse())).toEqual(['y', 'x', 'z']);
  });

  it('with distinct, keeps each value once at its newest occurrence', () => {
    const events = [
      e(1, 'a', 'p1'),
      e(2, 'b', 'p2'),
      e(3, 'c', 'p1'),
      e(4, 'd', 'p3'),
      e(5, 'e', 'p1'),
    ];
    expect(take(2, true, events)).toEqual(['p1', 'p3']);
    expect(take(10, true, events)).toEqual(['p1', 'p3', 'p2']);
    expect(take(3, false, events)).toEqual(['p1', 'p3', 'p1']);
  });

  it('keeps at most n entries in its state', () => {
    const agg = lastNAggregator(2, false);
    let s = agg.init();
    for (let i = 0; i < 50; i++) s = agg.add(s, i, i, `e${i}`, 1);
    expect(s).toEqual([
      [49, 'e49', 49],
      [48, 'e48', 48],
    ]);
    expect(agg.merge(s, [[100, 'x', 7]])).toHaveLength(2);
  });

  it('refuses an n outside 1..MAX_LAST_N or not an integer', () => {
    for (const n of [0, -1, 1.5, MAX_LAST_N + 1, NaN])
      expect(() => lastNAggregator(n, false)).toThrow(RangeError);
    expect(() => aggregator('last_n')).toThrow(RangeError);
    expect(aggregator('last_n', { n: MAX_LAST_N }).kind).toBe('last_n');
  });
});

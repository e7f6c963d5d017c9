import { describe, it, expect } from 'vitest';
import {
  bruteForceLifetime,
  bruteForceWindow,
  type AggregationEvent,
} from '../../aggregation/index.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../core/duration.ts';

const t = Date.parse('2024-03-10T10:30:15Z');
const start = Date.parse('2024-03-10T09:31:00Z'); // W = 1h, H = 1m

/** Events straddling every boundary of the window [start, t]. */
const events: AggregationEvent[] = [
  { ts: start - 1, id: 'x1', value: 'outside', weight: 50 },
  { ts: start, id: 'a1', value: 'b', weight: 2 },
  { ts: start + 1, id: 'a2', value: null },
  { ts: t - 1, id: 'a3', value: 'a', weight: 1 },
  { ts: t, id: 'a4', value: 'a', weight: 1 },
  { ts: t, id: 'a0', value: 'c' },
  { ts: t + 1, id: 'x2', value: 'future', weight: 50 },
];

describe('bruteForceWindow', () => {
  it('keeps exactly the events in [windowStart, t]', () => {
    expect(bruteForceWindow('count', events, t, HOUR_MS, MINUTE_MS)).toBe(5);
    expect(bruteForceWindow('count', events, t, MINUTE_MS, MINUTE_MS)).toBe(3); // 10:30 hop only
    expect(bruteForceWindow('count', events, start - 1, HOUR_MS, MINUTE_MS)).toBe(1);
  });

  it('applies each kind to the kept, non-null values', () => {
    expect(bruteForceWindow('min', events, t, HOUR_MS, MINUTE_MS)).toBe('a');
    expect(bruteForceWindow('max', events, t, HOUR_MS, MINUTE_MS)).toBe('c');
    expect(bruteForceWindow('last', events, t, HOUR_MS, MINUTE_MS)).toBe('a'); // ts tie: 'a4' > 'a0'
    expect(bruteForceWindow('mode', events, t, HOUR_MS, MINUTE_MS)).toBe('a'); // a: 2, b: 2 → 'a'
    const numeric = events.map((e, i) => ({ ...e, value: e.value === null ? null : i }));
    expect(bruteForceWindow('sum', numeric, t, HOUR_MS, MINUTE_MS)).toBe(1 + 3 + 4 + 5);
    expect(bruteForceWindow('avg', numeric, t, HOUR_MS, MINUTE_MS)).toBe(13 / 4);
  });

  it('gives the empty values for an empty window', () => {
    const none: AggregationEvent[] = [];
    expect(bruteForceWindow('count', none, t, DAY_MS, HOUR_MS)).toBe(0);
    expect(bruteForceWindow('sum', none, t, DAY_MS, HOUR_MS)).toBe(0);
    for (const kind of ['avg', 'min', 'max', 'last', 'mode'] as const) {
      expect(bruteForceWindow(kind, none, t, DAY_MS, HOUR_MS)).toBeNull();
    }
  });

  it('weights mode and keeps non-positive totals', () => {
    const w: AggregationEvent[] = [
      { ts: t, id: '1', value: 'x', weight: -3 },
      { ts: t, id: '2', value: 'y', weight: -1 },
    ];
    expect(bruteForceWindow('mode', w, t, HOUR_MS, MINUTE_MS)).toBe('y');
  });
});

describe('bruteForceLifetime', () => {
  const ttl = 7 * DAY_MS;
  const life: AggregationEvent[] = [
    { ts: 1_000, id: 'a', value: 'old' },
    { ts: 2_000, id: 'b', value: 'new' },
    { ts: 2_000, id: 'A', value: 'tie-loser' },
    { ts: 3_000, id: 'c', value: null },
    { ts: 9_000, id: 'd', value: 'future' },
  ];

  it('takes the newest non-null value at or before t', () => {
    expect(bruteForceLifetime(life, 3_000, ttl)).toBe('new');
    expect(bruteForceLifetime(life, 1_999, ttl)).toBe('old');
    expect(bruteForceLifetime(life, 9_000, ttl)).toBe('future');
    expect(bruteForceLifetime(life, 999, ttl)).toBeNull();
  });

  it('is null once that value is more than TTL old (exactly TTL is still valid)', () => {
    const past = life.filter((e) => e.id !== 'd');
    expect(bruteForceLifetime(past, 2_000 + ttl, ttl)).toBe('new');
    expect(bruteForceLifetime(past, 2_000 + ttl + 1, ttl)).toBeNull(); // the null at 3000 does not renew it
    const single: AggregationEvent[] = [{ ts: 0, id: 'a', value: 1 }];
    expect(bruteForceLifetime(single, ttl, ttl)).toBe(1);
    expect(bruteForceLifetime(single, ttl + 1, ttl)).toBeNull();
  });
});

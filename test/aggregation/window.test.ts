import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  aggregator,
  assertWindow,
  buildTiles,
  evaluateLifetime,
  evaluateTiles,
  hopIndex,
  inWindow,
  tileExpiresAt,
  windowHops,
  windowStart,
  type AggregationEvent,
} from '../../aggregation/index.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../core/duration.ts';

const at = (iso: string): number => Date.parse(iso);
const T = at('2024-03-10T10:30:15.250Z');

describe('hopIndex', () => {
  it('is floor(ts / H), including before the epoch', () => {
    expect(hopIndex(0, MINUTE_MS)).toBe(0);
    expect(hopIndex(MINUTE_MS - 1, MINUTE_MS)).toBe(0);
    expect(hopIndex(MINUTE_MS, MINUTE_MS)).toBe(1);
    expect(hopIndex(-1, MINUTE_MS)).toBe(-1);
    expect(hopIndex(T, HOUR_MS)).toBe(Math.floor(T / HOUR_MS));
  });
});

describe('window bounds', () => {
  it('covers the partial current hop and W/H - 1 whole hops before it', () => {
    expect(windowStart(T, HOUR_MS, MINUTE_MS)).toBe(at('2024-03-10T09:31:00Z'));
    expect(windowStart(T, 24 * HOUR_MS, HOUR_MS)).toBe(at('2024-03-09T11:00:00Z'));
    expect(windowStart(T, 30 * DAY_MS, DAY_MS)).toBe(at('2024-02-10T00:00:00Z'));
    expect(windowStart(T, 5 * MINUTE_MS, MINUTE_MS)).toBe(at('2024-03-10T10:26:00Z'));
    const c = hopIndex(T, MINUTE_MS);
    expect(windowHops(T, HOUR_MS, MINUTE_MS)).toEqual({ first: c - 59, last: c });
  });

  it('counts an event exactly at windowStart but not one ms before', () => {
    const start = windowStart(T, HOUR_MS, MINUTE_MS);
    expect(inWindow(start, T, HOUR_MS, MINUTE_MS)).toBe(true);
    expect(inWindow(start - 1, T, HOUR_MS, MINUTE_MS)).toBe(false);
  });

  it('counts an event exactly at t but not one ms after', () => {
    expect(inWindow(T, T, HOUR_MS, MINUTE_MS)).toBe(true);
    expect(inWindow(T + 1, T, HOUR_MS, MINUTE_MS)).toBe(false);
  });

  it('when t is exactly on a hop boundary, the current hop holds only t itself', () => {
    const t = at('2024-03-10T10:30:00Z');
    expect(windowStart(t, HOUR_MS, MINUTE_MS)).toBe(at('2024-03-10T09:31:00Z'));
    expect(windowHops(t, HOUR_MS, MINUTE_MS).last).toBe(hopIndex(t, MINUTE_MS));
    expect(inWindow(t, t, HOUR_MS, MINUTE_MS)).toBe(true);
    expect(inWindow(t - 1, t, HOUR_MS, MINUTE_MS)).toBe(true); // 10:29:59.999, previous hop
    expect(inWindow(at('2024-03-10T09:31:00Z') - 1, t, HOUR_MS, MINUTE_MS)).toBe(false);
    // One ms earlier the window reaches one hop further back.
    expect(windowStart(t - 1, HOUR_MS, MINUTE_MS)).toBe(at('2024-03-10T09:30:00Z'));
  });

  it('with W = H the window is just the current, partial hop', () => {
    const start = at('2024-03-10T10:30:00Z');
    expect(windowStart(T, MINUTE_MS, MINUTE_MS)).toBe(start);
    expect(windowHops(T, MINUTE_MS, MINUTE_MS)).toEqual({
      first: hopIndex(T, MINUTE_MS),
      last: hopIndex(T, MINUTE_MS),
    });
    expect(inWindow(start, T, MINUTE_MS, MINUTE_MS)).toBe(true);
    expect(inWindow(start - 1, T, MINUTE_MS, MINUTE_MS)).toBe(false);
    expect(inWindow(T + 1, T, MINUTE_MS, MINUTE_MS)).toBe(false);
  });

  it('rejects a hop that is not positive or a window that is not a multiple of it', () => {
    expect(() => assertWindow(HOUR_MS, MINUTE_MS)).not.toThrow();
    expect(() => windowHops(T, 90 * 1000, MINUTE_MS)).toThrow(RangeError);
    expect(() => windowStart(T, HOUR_MS, 0)).toThrow(RangeError);
    expect(() => windowStart(T, -HOUR_MS, MINUTE_MS)).toThrow(RangeError);
    expect(() => tileExpiresAt(0, HOUR_MS, 1.5)).toThrow(RangeError);
    expect(() => buildTiles('count', [], 0)).toThrow(RangeError);
  });
});

describe('tileExpiresAt', () => {
  it('is one window plus one hop after the hop starts', () => {
    const k = hopIndex(at('2024-03-10T10:30:00Z'), MINUTE_MS);
    expect(tileExpiresAt(k, HOUR_MS, MINUTE_MS)).toBe(at('2024-03-10T11:31:00Z'));
    expect(tileExpiresAt(k, MINUTE_MS, MINUTE_MS)).toBe(at('2024-03-10T10:32:00Z'));
    const d = hopIndex(at('2024-03-10T00:00:00Z'), DAY_MS);
    expect(tileExpiresAt(d, 30 * DAY_MS, DAY_MS)).toBe(at('2024-04-10T00:00:00Z'));
  });

  it('a tile is never needed at or after its expiry, and is needed until one hop before it', () => {
    const hopMinutes = fc.constantFrom(1, 5, 60, 1440);
    fc.assert(
      fc.property(
        fc.integer({ min: -1_000_000, max: 1_000_000 }),
        hopMinutes,
        fc.integer({ min: 1, max: 48 }),
        fc.integer({ min: 0, max: 10_000_000_000 }),
        (k, hMin, ratio, later) => {
          const H = hMin * MINUTE_MS;
          const W = ratio * H;
          const expiry = tileExpiresAt(k, W, H);
          const inHops = (t: number) => {
            const { first, last } = windowHops(t, W, H);
            return first <= k && k <= last;
          };
          expect(inHops(expiry)).toBe(false);
          expect(inHops(expiry + later)).toBe(false);
          expect(inHops(expiry - H)).toBe(false); // the exact bound; the last hop is slack
          expect(inHops(expiry - H - 1)).toBe(true); // last read that uses it
          expect(inHops(k * H)).toBe(true); // first read that uses it
          expect(inHops(k * H - 1)).toBe(false);
        },
      ),
      { seed: 7, numRuns: 2000 },
    );
  });
});

describe('evaluateTiles', () => {
  const H = MINUTE_MS;
  const W = HOUR_MS;
  const start = windowStart(T, W, H);
  const events: AggregationEvent[] = [
    { ts: start - 1, id: 'before', value: 100 },
    { ts: start, id: 'first', value: 1 },
    { ts: start + 30 * MINUTE_MS, id: 'middle', value: 2 },
    { ts: T, id: 'at-t', value: 4 },
  ];

  it('merges only the tiles in the window and finishes', () => {
    const tiles = buildTiles('sum', events, H);
    expect(tiles.size).toBe(4);
    expect(evaluateTiles(aggregator('sum'), tiles, T, W, H)).toBe(7);
    expect(evaluateTiles(aggregator('count'), buildTiles('count', events, H), T, W, H)).toBe(3);
    expect(evaluateTiles(aggregator('last'), buildTiles('last', events, H), T, W, H)).toBe(4);
    expect(evaluateTiles(aggregator('min'), buildTiles('min', events, H), T, W, H)).toBe(1);
  });

  it('ignores tiles after the current hop', () => {
    const tiles = buildTiles('sum', [...events, { ts: T + H, id: 'future', value: 1000 }], H);
    expect(evaluateTiles(aggregator('sum'), tiles, T, W, H)).toBe(7);
  });

  it('gives the empty value when no tile is in the window', () => {
    const old = buildTiles('count', [{ ts: start - 1, id: 'a', value: null }], H);
    expect(evaluateTiles(aggregator('count'), old, T, W, H)).toBe(0);
    expect(evaluateTiles(aggregator('avg'), new Map(), T, W, H)).toBeNull();
    expect(evaluateTiles(aggregator('mode'), [], T, W, H)).toBeNull();
  });

  it('with W = H reads only the current tile', () => {
    const tiles = buildTiles('sum', events, H);
    expect(evaluateTiles(aggregator('sum'), tiles, T, H, H)).toBe(4);
  });

  it('does not mutate the tiles it reads', () => {
    const tiles = buildTiles('avg', events, H);
    const snapshot = JSON.stringify([...tiles]);
    expect(evaluateTiles(aggregator('avg'), tiles, T, W, H)).toBeCloseTo(7 / 3, 12);
    expect(evaluateTiles(aggregator('avg'), tiles, T, W, H)).toBeCloseTo(7 / 3, 12);
    expect(JSON.stringify([...tiles])).toBe(snapshot);
    const modeTiles = buildTiles(
      'mode',
      events.map((e) => ({ ...e, value: 'x' })),
      H,
    );
    const modeSnapshot = JSON.stringify([...modeTiles]);
    expect(evaluateTiles(aggregator('mode'), modeTiles, T, W, H)).toBe('x');
    expect(JSON.stringify([...modeTiles])).toBe(modeSnapshot);
  });

  it('accepts tiles read back from JSON', () => {
    const stored = JSON.parse(JSON.stringify([...buildTiles('last', events, H)])) as [
      number,
      unknown,
    ][];
    expect(evaluateTiles(aggregator('last'), stored, T, W, H)).toBe(4);
  });
});

describe('buildTiles', () => {
  it('groups events by hop and folds them with weights defaulting to 1', () => {
    const base = at('2024-03-10T10:00:00Z');
    const k = hopIndex(base, MINUTE_MS);
    const tiles = buildTiles(
      'mode',
      [
        { ts: base, id: '1', value: 'a' },
        { ts: base + MINUTE_MS - 1, id: '2', value: 'a', weight: 2 },
        { ts: base + MINUTE_MS, id: '3', value: 'b' },
        { ts: base + 2 * MINUTE_MS, id: '4', value: null },
      ],
      MINUTE_MS,
    );
    expect([...tiles.keys()]).toEqual([k, k + 1, k + 2]);
    expect(tiles.get(k)).toEqual({ a: 3 });
    expect(tiles.get(k + 1)).toEqual({ b: 1 });
    expect(tiles.get(k + 2)).toEqual({}); // a tile exists, but holds no value
  });
});

describe('evaluateLifetime', () => {
  const ttl = 30 * DAY_MS;
  const state = { v: 'ios', ts: at('2024-03-01T00:00:00Z'), id: 'e1' };

  it('returns the value while it is at most TTL old', () => {
    expect(evaluateLifetime(state, state.ts, ttl)).toBe('ios');
    expect(evaluateLifetime(state, state.ts + 1, ttl)).toBe('ios');
    expect(evaluateLifetime(state, state.ts + ttl, ttl)).toBe('ios'); // exactly TTL old: valid
  });

  it('is null one ms past the TTL', () => {
    expect(evaluateLifetime(state, state.ts + ttl + 1, ttl)).toBeNull();
  });

  it('is null for a state newer than t, and for no state', () => {
    expect(evaluateLifetime(state, state.ts - 1, ttl)).toBeNull();
    expect(evaluateLifetime(null, state.ts, ttl)).toBeNull();
  });

  it('reads a last state folded from events, numbers included', () => {
    const s = aggregator('last').add(null, 19.99, 1_000, 'p', 1) as typeof state | null;
    expect(evaluateLifetime(s, 1_000 + 5, 10)).toBe(19.99);
    expect(evaluateLifetime(s, 1_000 + 11, 10)).toBeNull();
  });
});

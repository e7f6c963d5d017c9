/**
 * Sequence states (session runs, previous-event tiles) against the reference, on random event
 * sets in random arrival orders: ties in ts, ids by code point, gaps at G ± 1 and at the
 * predicate's threshold, late events, empty windows, entities with one event. The tiles are
 * built event by event in arrival order, half of them merged from a second partial state, and
 * pruned to the documented retention (`tileExpiresAt` of their layout) before every read.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  bruteForcePrevious,
  bruteForceSession,
  compareEvents,
  floatsEqual,
  hopIndex,
  tileExpiresAt,
  type SequenceEvent,
  type SessionFeature,
} from '../../aggregation/index.ts';
import {
  evaluateSession,
  mergeSessionRuns,
  sessionTileAdd,
  sessionTileAddOwned,
  sessionTileLayout,
  type SessionRun,
} from '../../aggregation/session-state.ts';
import {
  evaluatePrevious,
  mergePreviousEvents,
  mergePreviousLast,
  previousEventsAdd,
  previousEventsAddOwned,
  previousLastAdd,
  previousTileLayout,
  type PreviousEvent,
  type PreviousLast,
} from '../../aggregation/previous-state.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../core/duration.ts';
import { memoryHopMs, type PreviousPredicate } from '../../core/sequence.ts';

const RUNS = 300;
const T0 = Date.parse('2024-03-10T00:00:00Z');

const idArb = fc.string({
  unit: fc.constantFrom('a', 'B', '\uFF5E', '\u{1F600}'),
  minLength: 1,
  maxLength: 2,
});

/** Events built from consecutive gaps chosen around the interesting thresholds. */
function eventsArb(gapMs: number, hopMs: number): fc.Arbitrary<SequenceEvent[]> {
  const step = fc.oneof(
    fc.constantFrom(0, 1, 50, 99, 100, 101, gapMs - 1, gapMs, gapMs + 1, hopMs - 1, hopMs),
    fc.integer({ min: 0, max: 3 * gapMs }),
    fc.integer({ min: 0, max: 2 * DAY_MS }),
  );
  const one = fc.record({
    step,
    id: idArb,
    value: fc.option(fc.constantFrom('ip1', 'ip2', 'ip3'), { nil: null }),
    match: fc.boolean(),
  });
  return fc
    .tuple(fc.integer({ min: -3 * DAY_MS, max: 0 }), fc.array(one, { maxLength: 40 }))
    .map(([start, steps]) => {
      let ts = T0 + start;
      return steps.map((s) => ((ts += s.step), { ts, id: s.id, value: s.value, match: s.match }));
    });
}

/** A window, gap and TTL satisfying the definition-time checks (sequence-spec.ts). */
const setupArb = fc
  .record({
    hopMs: fc.constantFrom(MINUTE_MS, 5 * MINUTE_MS, HOUR_MS),
    ratio: fc.integer({ min: 1, max: 6 }),
    gapMs: fc.constantFrom(MINUTE_MS, 7 * MINUTE_MS, 30 * MINUTE_MS, 90 * MINUTE_MS),
    days: fc.boolean(),
    extraHours: fc.integer({ min: 0, max: 30 }),
  })
  .map(({ hopMs, ratio, gapMs, days, extraHours }) => {
    const windowMs = hopMs * ratio;
    const need = windowMs + gapMs + hopMs;
    let ttlMs = (Math.ceil(need / HOUR_MS) + 1 + extraHours) * HOUR_MS;
    if (days) ttlMs = (Math.ceil(need / DAY_MS) + 1) * DAY_MS;
    else if (ttlMs % DAY_MS === 0) ttlMs += HOUR_MS;
    const memory = { ttlMs, hopMs: memoryHopMs(ttlMs) };
    return { windowMs, hopMs, gapMs, memory };
  });

/** Arrival order: a permutation, split into two partial states merged at the end. */
const orderArb = (n: number) =>
  fc.tuple(
    fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n }),
    fc.integer({ min: 0, max: n }),
  );

const caseArb = setupArb.chain((s) =>
  eventsArb(s.gapMs, s.hopMs).chain((events) =>
    fc.record({
      s: fc.constant(s),
      events: fc.constant(events),
      order: orderArb(events.length),
      t: fc.oneof(
        fc.integer({ min: T0 - 3 * DAY_MS, max: T0 + 5 * DAY_MS }),
        events.length === 0
          ? fc.constant(T0)
          : fc
              .tuple(
                fc.constantFrom(...events),
                fc.constantFrom(0, 1, s.gapMs, s.gapMs + 1, s.hopMs),
              )
              .map(([e, d]) => e.ts + d),
      ),
    }),
  ),
);

/** Folds events into per-hop states in two partial states, merges them, prunes expired tiles. */
function tiles<S>(
  events: SequenceEvent[],
  order: [number[], number],
  hopMs: number,
  windowMs: number,
  t: number,
  add: (s: S | undefined, e: SequenceEvent) => S,
  merge: (a: S, b: S) => S,
): [number, S][] {
  const parts = [new Map<number, S>(), new Map<number, S>()];
  const [perm, split] = order;
  perm.forEach((i, j) => {
    const e = events[i]!;
    if (e.ts > t) return; // the caller's guarantee: no event after t
    const part = parts[j < split ? 0 : 1]!;
    const k = hopIndex(e.ts, hopMs);
    part.set(k, add(part.get(k), e));
  });
  const out = new Map(parts[0]!);
  for (const [k, s] of parts[1]!) out.set(k, out.has(k) ? merge(out.get(k)!, s) : s);
  return [...out].filter(([k]) => tileExpiresAt(k, windowMs, hopMs) > t);
}

const KINDS: SessionFeature['kind'][] = [
  'session_count',
  'session_avg_duration',
  'current_session_count',
  'current_session_duration',
];

describe('session runs vs the reference', () => {
  for (const kind of KINDS) {
    it(`${kind}: any arrival order, pruned to the documented retention`, () => {
      fc.assert(
        fc.property(caseArb, ({ s, events, order, t }) => {
          const current = kind.startsWith('current');
          const f: SessionFeature = {
            kind,
            gapMs: s.gapMs,
            windowMs: current ? null : s.windowMs,
            hopMs: current ? null : s.hopMs,
          };
          const layout = sessionTileLayout(f, s.memory);
          const ts = tiles<SessionRun[]>(
            events,
            order,
            layout.hopMs,
            layout.windowMs,
            t,
            (st, e) => sessionTileAdd(st ?? [], e.ts, e.match, s.gapMs),
            (a, b) => mergeSessionRuns([a, b], s.gapMs),
          );
          const got = evaluateSession(f, ts, t, s.memory);
          const want = bruteForceSession(f, events, t, s.memory);
          if (typeof got === 'number' && typeof want === 'number' && kind.includes('duration'))
            expect(floatsEqual(got, want), `${got} vs ${want}`).toBe(true);
          else expect(got).toEqual(want);
        }),
        { numRuns: RUNS },
      );
    });
  }

  it('a tile holds at most floor(H / (G + 1)) + 1 runs', () => {
    fc.assert(
      fc.property(caseArb, ({ s, events }) => {
        const byHop = new Map<number, SessionRun[]>();
        for (const e of events) {
          const k = hopIndex(e.ts, s.hopMs);
          byHop.set(k, sessionTileAdd(byHop.get(k) ?? [], e.ts, e.match, s.gapMs));
        }
        for (const runs of byHop.values())
          expect(runs.length).toBeLessThanOrEqual(Math.floor(s.hopMs / (s.gapMs + 1)) + 1);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('previous-event tiles vs the reference', () => {
  const predicates: [string, (gapMs: number) => PreviousPredicate][] = [
    ['gap_below', () => ({ kind: 'gap_below', ms: 100 })],
    ['gap_below G', (g) => ({ kind: 'gap_below', ms: g })],
    ['changed', () => ({ kind: 'changed' })],
  ];
  for (const [name, make] of predicates) {
    it(`${name}: any arrival order, pruned to the documented retention`, () => {
      fc.assert(
        fc.property(caseArb, ({ s, events, order, t }) => {
          const p = make(s.gapMs);
          const evs = p.kind === 'changed' ? events : events.map((e) => ({ ...e, value: null }));
          const layout = previousTileLayout(s.windowMs, s.hopMs, s.memory);
          const fine = tiles<PreviousEvent[]>(
            evs,
            order,
            layout.events.hopMs,
            layout.events.windowMs,
            t,
            (st, e) => previousEventsAdd(st ?? [], e),
            mergePreviousEvents,
          );
          const last = tiles<PreviousLast | null>(
            evs,
            order,
            layout.last.hopMs,
            layout.last.windowMs,
            t,
            (st, e) => previousLastAdd(st ?? null, e),
            mergePreviousLast,
          );
          const got = evaluatePrevious(p, fine, last, t, s.windowMs, s.hopMs, s.memory);
          expect(got).toBe(bruteForcePrevious(p, evs, t, s.windowMs, s.hopMs, s.memory));
        }),
        { numRuns: RUNS },
      );
    });
  }
});

describe('the folds’ fast paths equal the sorted unions they stand for', () => {
  const small = fc.integer({ min: 0, max: 6 });
  const runArb = fc
    .tuple(small, small, fc.integer({ min: 0, max: 2 }))
    .map(([a, b, m]): SessionRun => [Math.min(a, b), Math.max(a, b), m]);
  const eventArb = fc
    .tuple(small, idArb, fc.constantFrom(null, 'ip1', 'ip2', 1), fc.constantFrom(0, 1))
    .map(([ts, id, value, match]) => [ts, id, value, match] as PreviousEvent);
  const compareRuns = (a: SessionRun, b: SessionRun) => a[0] - b[0] || a[1] - b[1];

  it('sessionTileAdd: the runs of the stable sort of tile + run, sorted or not', () => {
    fc.assert(
      fc.property(
        fc.array(runArb, { maxLength: 8 }),
        fc.boolean(),
        small,
        fc.boolean(),
        fc.integer({ min: 0, max: 2 }),
        (runs, sort, ts, match, gap) => {
          const tile = sort ? [...runs].sort(compareRuns) : runs;
          const before = JSON.stringify(tile);
          expect(sessionTileAdd(tile, ts, match, gap)).toEqual(
            mergeSessionRuns([tile, [[ts, ts, match ? 1 : 0]]], gap),
          );
          expect(JSON.stringify(tile)).toBe(before);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('sessionTileAddOwned: the runs of sessionTileAdd, event after event, from any tile', () => {
    fc.assert(
      fc.property(
        fc.array(runArb, { maxLength: 8 }),
        fc.boolean(),
        fc.array(fc.tuple(small, fc.boolean()), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 0, max: 2 }),
        (runs, sort, adds, gap) => {
          const start = sort ? [...runs].sort(compareRuns) : runs;
          let copied: SessionRun[] = start.map((r) => [...r] as SessionRun);
          let owned: SessionRun[] = start.map((r) => [...r] as SessionRun);
          for (const [ts, match] of adds) {
            copied = sessionTileAdd(copied, ts, match, gap);
            owned = sessionTileAddOwned(owned, ts, match, gap);
            expect(owned).toEqual(copied);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('previousEventsAddOwned: the tile of previousEventsAdd, event after event, from any tile', () => {
    fc.assert(
      fc.property(
        fc.array(eventArb, { maxLength: 8 }),
        fc.array(eventArb, { minLength: 1, maxLength: 12 }),
        (start, adds) => {
          let copied: PreviousEvent[] = [...start];
          let owned: PreviousEvent[] = [...start];
          for (const [ts, id, value, match] of adds) {
            const e = { ts, id, value, match: match === 1 };
            copied = previousEventsAdd(copied, e);
            owned = previousEventsAddOwned(owned, e);
            expect(owned).toEqual(copied);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('mergePreviousEvents: the stable sort of a + b, by reference, sorted or not', () => {
    const reference = (x: PreviousEvent, y: PreviousEvent) =>
      compareEvents(
        { ts: x[0], id: x[1], value: x[2], match: x[3] === 1 },
        { ts: y[0], id: y[1], value: y[2], match: y[3] === 1 },
      );
    fc.assert(
      fc.property(
        fc.array(eventArb, { maxLength: 8 }),
        fc.array(eventArb, { maxLength: 8 }),
        fc.boolean(),
        (a0, b0, sort) => {
          const a = sort ? [...a0].sort(reference) : a0;
          const b = sort ? [...b0].sort(reference) : b0;
          const got = mergePreviousEvents(a, b);
          const want = [...a, ...b].sort(reference);
          expect(got).toHaveLength(want.length);
          got.forEach((e, i) => expect(e).toBe(want[i]));
        },
      ),
      { numRuns: 1000 },
    );
  });
});

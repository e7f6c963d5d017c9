/**
 * Sequence features for the online conformance suite: a view with every sequence kind, random
 * per-entity event sets (ties, gaps at G ± 1 and at the threshold, late events) folded into
 * tiles with the aggregation library in a random arrival order, cut into several merge
 * batches, and the reference's values for them.
 */
import fc from 'fast-check';
import {
  bruteForcePrevious,
  bruteForceSession,
  hopIndex,
  memoryOf,
  sequenceTiles,
  type SequenceEvent,
} from '../../aggregation/index.ts';
import type { TileWrite } from '../../aggregation/tiles.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../core/duration.ts';
import type { Scalar } from '../../core/types.ts';
import type { FeatureSpec, FeatureViewSpec } from '../../definitions/spec.ts';

const G = 5 * MINUTE_MS;
const TTL = 2 * DAY_MS;

const seq = (
  name: string,
  aggregation: FeatureSpec['aggregation'],
  type: FeatureSpec['type'],
  windowMs: number | null,
  sequence: FeatureSpec['sequence'],
): FeatureSpec => ({
  name,
  type,
  aggregation,
  input: null,
  weight: null,
  where: null,
  windowMs,
  hopMs: windowMs === null ? null : MINUTE_MS,
  description: '',
  sequence,
});

const session = { previous: null, gapMs: G };
/** `where` and `input` are not read by the stores; the cases set `match` and `value` directly. */
export const sequences: FeatureViewSpec = {
  kind: 'feature_view',
  name: 'sequences',
  entities: ['user'],
  keys: {},
  source: 'events',
  filter: null,
  ttlMs: TTL,
  online: true,
  features: [
    seq('sessions_1h', 'session_count', 'int64', HOUR_MS, session),
    seq('avg_session_1h_s', 'session_avg_duration', 'float64', HOUR_MS, session),
    seq('current_events', 'current_session_count', 'int64', null, session),
    seq('current_duration_s', 'current_session_duration', 'float64', null, session),
    seq('fast_1h', 'count_previous', 'int64', HOUR_MS, {
      previous: { kind: 'gap_below', ms: 100 },
      gapMs: null,
    }),
    seq('changes_1h', 'count_previous', 'int64', HOUR_MS, {
      previous: { kind: 'changed' },
      gapMs: null,
    }),
  ],
  description: '',
};

function eventsArb(now: number): fc.Arbitrary<SequenceEvent[]> {
  const step = fc.oneof(
    fc.constantFrom(0, 1, 99, 100, G - 1, G, G + 1),
    fc.integer({ min: 0, max: 3 * G }),
    fc.integer({ min: 0, max: HOUR_MS }),
  );
  const one = fc.record({
    step,
    id: fc.string({ unit: fc.constantFrom('a', 'B', '\u{1F600}'), minLength: 1, maxLength: 2 }),
    value: fc.option(fc.constantFrom('ip1', 'ip2'), { nil: null }),
    match: fc.boolean(),
  });
  return fc
    .tuple(
      fc.oneof(
        { arbitrary: fc.integer({ min: -2 * HOUR_MS, max: 0 }), weight: 3 },
        { arbitrary: fc.integer({ min: -TTL - HOUR_MS, max: 0 }), weight: 1 },
      ),
      fc.array(one, { maxLength: 25 }),
    )
    .map(([start, steps]) => {
      let ts = now + start;
      return steps
        .map((s) => ((ts += s.step), { ts, id: s.id, value: s.value, match: s.match }))
        .filter((e) => e.ts <= now);
    });
}

export interface SequenceCase {
  /** Merge batches in arrival order. */
  batches: TileWrite[][];
  /** Entity key → feature → the reference's value at `now`. */
  expected: Map<string, Record<string, Scalar | null>>;
}

/** `entities` random entities (seeded), their tiles in arrival order and expected values. */
export function sequenceCase(now: number, entities: number, seed: number): SequenceCase {
  const [sets] = fc.sample<[SequenceEvent[], SequenceEvent[]][]>(
    fc.array(
      eventsArb(now).chain((evs) =>
        fc.tuple(
          fc.constant(evs),
          fc.shuffledSubarray(evs, { minLength: evs.length, maxLength: evs.length }),
        ),
      ),
      { minLength: entities, maxLength: entities },
    ),
    { seed, numRuns: 1 },
  );
  // Hand-made: a previous event a day before the window (read from a last-event tile), and a
  // late event that merges two sessions.
  sets!.push(
    ((evs) => [evs, [...evs].reverse()])([
      { ts: now - DAY_MS - HOUR_MS, id: 'x', value: 'ip1', match: true },
      { ts: now - 10 * MINUTE_MS, id: 'y', value: 'ip2', match: true },
    ]),
    ((evs) => [evs, [evs[0]!, evs[2]!, evs[1]!]])([
      { ts: now - 30 * MINUTE_MS, id: 'a', value: null, match: true },
      { ts: now - 26 * MINUTE_MS, id: 'b', value: null, match: false },
      { ts: now - 22 * MINUTE_MS, id: 'c', value: null, match: true },
    ]),
  );
  const memory = memoryOf(TTL);
  const batches: TileWrite[][] = [[], [], []];
  const expected = new Map<string, Record<string, Scalar | null>>();
  sets!.forEach(([events, arrival], i) => {
    const entityKey = `s${i}`;
    const want: Record<string, Scalar | null> = {};
    for (const f of sequences.features) {
      const evs =
        f.sequence!.previous?.kind === 'changed'
          ? events
          : events.map((e) => ({ ...e, value: null }));
      want[f.name] =
        f.aggregation === 'count_previous'
          ? bruteForcePrevious(f.sequence!.previous!, evs, now, f.windowMs!, f.hopMs!, memory)
          : bruteForceSession(
              { kind: f.aggregation as never, gapMs: G, windowMs: f.windowMs, hopMs: f.hopMs },
              evs,
              now,
              memory,
            );
    }
    expected.set(entityKey, want);
    arrival.forEach((e, j) => {
      const tiles = new Map<string, TileWrite>();
      for (const f of sequences.features) {
        const shape = { ...f, aggregation: f.aggregation as never };
        const ev = f.sequence!.previous?.kind === 'changed' ? e : { ...e, value: null };
        for (const t of sequenceTiles(shape, TTL)) {
          const hop = hopIndex(e.ts, t.hopMs);
          const k = `${t.hopMs}:${hop}`;
          let w = tiles.get(k);
          if (!w)
            tiles.set(k, (w = { view: 'sequences', entityKey, hopMs: t.hopMs, hop, states: {} }));
          w.states[t.key] = t.add(t.init(), ev);
        }
      }
      batches[j % batches.length]!.push(...tiles.values());
    });
  });
  return { batches: batches.filter((b) => b.length > 0), expected };
}

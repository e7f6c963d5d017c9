/**
 * How the engines that keep tiles (stream worker, push, online stores) store and read sequence
 * features: each feature keeps one or two per-hop states, named in the view's tiles like any
 * other feature state, with their own hop and retention window (a tile of hop `k` expires at
 * `tileExpiresAt(k, windowMs, hopMs)`):
 *
 * | kind                          | state key          | hop            | retention window  |
 * |-------------------------------|--------------------|----------------|-------------------|
 * | `session_count`, `session_avg_duration` | `<feature>` | H      | W + ceil(G/H)·H   |
 * | `current_session_*`           | `<feature>`        | M (memory hop) | TTL               |
 * | `count_previous`              | `<feature>`        | H              | W + M             |
 * |                               | `<feature>~last`   | M              | TTL               |
 *
 * @example
 * for (const tile of sequenceTiles(f, view.ttlMs)) state = tile.add(state ?? tile.init(), event);
 * evaluateSequenceTiles(f, view.ttlMs, (key) => tilesOf(key), t);
 */
import type { Scalar } from '../core/types.ts';
import {
  memoryHopMs,
  type PreviousPredicate,
  type SequenceKind,
  type SequenceMemory,
} from '../core/sequence.ts';
import type { SessionFeature } from './brute-force-sequence.ts';
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
} from './previous-state.ts';
import type { SequenceEvent } from './sequence-event.ts';
import {
  evaluateSession,
  mergeSessionRuns,
  sessionTileAdd,
  sessionTileAddOwned,
  sessionTileLayout,
  type SessionRun,
} from './session-state.ts';

/** The parts of a feature spec a sequence feature is stored and read by. */
export interface SequenceFeatureShape {
  name: string;
  aggregation: SequenceKind;
  windowMs: number | null;
  hopMs: number | null;
  sequence?: { previous: PreviousPredicate | null; gapMs: number | null };
}

/** One per-hop state of a sequence feature. States are JSON; `merge` never mutates `b`. */
export interface SequenceTile {
  /** The state's name inside the view's tiles: the feature's name, or `<feature>~last`. */
  key: string;
  hopMs: number;
  /** Retention: the tile of hop `k` is read until `tileExpiresAt(k, windowMs, hopMs)`. */
  windowMs: number;
  /**
   * Whether the state of a tile depends only on its events with the latest timestamp (the
   * `~last` state: the greatest event by time, then id, then value): a batch fold may leave out
   * a tile's earlier events (`computeTiles` on DuckDB does).
   */
  latestOnly: boolean;
  init(): unknown;
  add(state: unknown, e: SequenceEvent): unknown;
  /**
   * `add` for a state the caller owns (from `init()` and `addOwned` only, never shared, not
   * read again): the same state, which may be `state` itself, updated in place (the stream
   * worker's fold). Keeps none of `e` itself (its fields are copied): callers reuse one event
   * object for many calls.
   */
  addOwned(state: unknown, e: SequenceEvent): unknown;
  merge(a: unknown, b: unknown): unknown;
}

export const memoryOf = (ttlMs: number): SequenceMemory => ({
  ttlMs,
  hopMs: memoryHopMs(ttlMs),
});

function sessionFeature(f: SequenceFeatureShape): SessionFeature {
  return {
    kind: f.aggregation as SessionFeature['kind'],
    gapMs: f.sequence!.gapMs!,
    windowMs: f.windowMs,
    hopMs: f.hopMs,
  };
}

/** The states a sequence feature keeps (see the table above). */
export function sequenceTiles(f: SequenceFeatureShape, ttlMs: number): SequenceTile[] {
  const memory = memoryOf(ttlMs);
  if (f.aggregation === 'count_previous') {
    const layout = previousTileLayout(f.windowMs!, f.hopMs!, memory);
    return [
      {
        key: f.name,
        ...layout.events,
        latestOnly: false,
        init: () => [],
        add: (s, e) => previousEventsAdd(s as PreviousEvent[], e),
        addOwned: (s, e) => previousEventsAddOwned(s as PreviousEvent[], e),
        merge: (a, b) => mergePreviousEvents(a as PreviousEvent[], b as PreviousEvent[]),
      },
      {
        key: `${f.name}~last`,
        ...layout.last,
        latestOnly: true,
        init: () => null,
        add: (s, e) => previousLastAdd(s as PreviousLast | null, e),
        addOwned: (s, e) => previousLastAdd(s as PreviousLast | null, e),
        merge: (a, b) => mergePreviousLast(a as PreviousLast | null, b as PreviousLast | null),
      },
    ];
  }
  const sf = sessionFeature(f);
  return [
    {
      key: f.name,
      ...sessionTileLayout(sf, memory),
      latestOnly: false,
      init: () => [],
      add: (s, e) => sessionTileAdd(s as SessionRun[], e.ts, e.match, sf.gapMs),
      addOwned: (s, e) => sessionTileAddOwned(s as SessionRun[], e.ts, e.match, sf.gapMs),
      merge: (a, b) => mergeSessionRuns([a as SessionRun[], b as SessionRun[]], sf.gapMs),
    },
  ];
}

/**
 * {@link sequenceTiles} of a shape, built once per shape object and TTL: a read evaluates the
 * same plan's shapes again and again, and building the tiles (closures) was a fifth of the CPU
 * of evaluating `user_sessions` (`online/read-plan.ts`). Shapes are not mutated after use.
 */
interface ShapeReading {
  ttlMs: number;
  tiles: SequenceTile[];
  /** `memoryOf(ttlMs)` and, for a session feature, `sessionFeature(f)`, built once too. */
  memory: SequenceMemory;
  session: SessionFeature | null;
}

const tilesByShape = new WeakMap<SequenceFeatureShape, ShapeReading>();

function readingOf(f: SequenceFeatureShape, ttlMs: number): ShapeReading {
  const cached = tilesByShape.get(f);
  if (cached !== undefined && cached.ttlMs === ttlMs) return cached;
  const reading: ShapeReading = {
    ttlMs,
    tiles: sequenceTiles(f, ttlMs),
    memory: memoryOf(ttlMs),
    session: f.aggregation === 'count_previous' ? null : sessionFeature(f),
  };
  tilesByShape.set(f, reading);
  return reading;
}

/**
 * A sequence feature at `t` from its stored states: `statesOf(key)` gives (hop index, state)
 * of every stored tile of that key with the key's hop; tiles outside the read's hops are
 * ignored. The caller guarantees the tiles hold no event after `t`.
 */
export function evaluateSequenceTiles(
  f: SequenceFeatureShape,
  ttlMs: number,
  statesOf: (key: string, hopMs: number) => Iterable<readonly [number, unknown]>,
  t: number,
): Scalar | null {
  const { tiles, memory, session } = readingOf(f, ttlMs);
  const [main, last] = tiles;
  if (session === null) {
    return evaluatePrevious(
      f.sequence!.previous!,
      statesOf(main!.key, main!.hopMs) as Iterable<[number, PreviousEvent[]]>,
      statesOf(last!.key, last!.hopMs) as Iterable<[number, PreviousLast | null]>,
      t,
      f.windowMs!,
      f.hopMs!,
      memory,
    );
  }
  return evaluateSession(
    session,
    statesOf(main!.key, main!.hopMs) as Iterable<[number, SessionRun[]]>,
    t,
    memory,
  );
}

/** The value of a sequence feature with no stored state (an unknown entity): 0 or null. */
export function emptySequenceValue(kind: SequenceKind): 0 | null {
  return kind === 'session_avg_duration' || kind === 'current_session_duration' ? null : 0;
}

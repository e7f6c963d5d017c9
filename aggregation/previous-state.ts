/**
 * Online state of previous-event relations (`count_previous`), two tile families per feature:
 * - *event tiles* at the feature's hop H: the hop's events `[ts, id, value, match]` in event
 *   order (value: the compared field of `changed`, else null), kept for W + M (M: the view's
 *   memory hop), so every window event and every event since the start of the memory hop
 *   holding the window's start are known one by one;
 * - *last tiles* at M: the newest event `[ts, id, value]` of each memory hop, kept for the TTL,
 *   for a previous event older than that.
 * A read at `t` orders the event tiles' events after the newest last-tile event before them; a
 * late event lands in its own tiles, so it can become another event's previous event. Exact for
 * any arrival order; the event tiles hold every event of W + M (the worst case), the last tiles
 * one event per memory hop.
 *
 * @example
 * events = previousEventsAdd(events, { ts, id, value: ip, match: true });
 * last = previousLastAdd(last, { ts, id, value: ip });
 */
import type { Scalar } from '../core/types.ts';
import type { PreviousPredicate, SequenceMemory } from '../core/sequence.ts';
import { windowStartUnchecked } from './hop-window.ts';
import { compareCodePoints } from './compare-code-points.ts';
import { compareEvents, valuesDiffer } from './sequence-event.ts';

/** `[ts, id, value, match (0/1)]`. */
export type PreviousEvent = [ts: number, id: string, value: Scalar | null, match: 0 | 1];
/** `[ts, id, value]` of a memory hop's newest event. */
export type PreviousLast = [ts: number, id: string, value: Scalar | null];

type Tuple = readonly [number, string, Scalar | null, (0 | 1)?];

/**
 * `compareEvents` of two tuples (time, then id by code point, then value and match), building
 * event objects only for the rare tie of time and id (the folds' hot path).
 */
function order(a: Tuple, b: Tuple): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  const byId = compareCodePoints(a[1], b[1]);
  if (byId !== 0) return byId;
  return compareEvents(
    { ts: 0, id: '', value: a[2], match: a[3] === 1 },
    { ts: 0, id: '', value: b[2], match: b[3] === 1 },
  );
}

const sorted = (xs: readonly Tuple[]): boolean => {
  for (let i = 1; i < xs.length; i++) if (order(xs[i - 1]!, xs[i]!) > 0) return false;
  return true;
};

/** Adds an event to an event tile; returns a new sorted tile. */
export function previousEventsAdd(
  tile: readonly PreviousEvent[],
  e: { ts: number; id: string; value: Scalar | null; match: boolean },
): PreviousEvent[] {
  return mergePreviousEvents(tile, [[e.ts, e.id, e.value, e.match ? 1 : 0]]);
}

/**
 * {@link previousEventsAdd} for a tile the caller owns (built by it from `[]` with this
 * function, never shared, not read again): the same tile, the event inserted in place instead
 * of a merged copy (after every event ordered before or with it, as the merge places it). An
 * unsorted tile takes the copying path.
 */
export function previousEventsAddOwned(
  tile: PreviousEvent[],
  e: { ts: number; id: string; value: Scalar | null; match: boolean },
): PreviousEvent[] {
  if (!sorted(tile)) return previousEventsAdd(tile, e);
  const x: PreviousEvent = [e.ts, e.id, e.value, e.match ? 1 : 0];
  let at = tile.length;
  tile.push(x);
  while (at > 0 && order(tile[at - 1]!, x) > 0) {
    tile[at] = tile[at - 1]!;
    at--;
  }
  tile[at] = x;
  return tile;
}

/**
 * Merges two event tiles of one hop (sorted union, duplicates kept like `count` keeps them):
 * the stable sort of `[...a, ...b]`, by a linear merge when both are sorted (tiles always are).
 */
export function mergePreviousEvents(
  a: readonly PreviousEvent[],
  b: readonly PreviousEvent[],
): PreviousEvent[] {
  if (!sorted(a) || !sorted(b)) return [...a, ...b].sort(order);
  const out: PreviousEvent[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) out.push(order(a[i]!, b[j]!) <= 0 ? a[i++]! : b[j++]!);
  while (i < a.length) out.push(a[i++]!);
  while (j < b.length) out.push(b[j++]!);
  return out;
}

/** The newer of two last-tile states (null: none yet). */
export function mergePreviousLast(
  a: PreviousLast | null,
  b: PreviousLast | null,
): PreviousLast | null {
  if (a === null) return b;
  if (b === null) return a;
  return order(b, a) > 0 ? b : a;
}

export function previousLastAdd(
  last: PreviousLast | null,
  e: { ts: number; id: string; value: Scalar | null },
): PreviousLast | null {
  return mergePreviousLast(last, [e.ts, e.id, e.value]);
}

/** Hops and retention windows of both families (see the file comment). */
export function previousTileLayout(
  windowMs: number,
  hopMs: number,
  memory: SequenceMemory,
): { events: { hopMs: number; windowMs: number }; last: { hopMs: number; windowMs: number } } {
  return {
    events: { hopMs, windowMs: windowMs + memory.hopMs },
    last: { hopMs: memory.hopMs, windowMs: memory.ttlMs },
  };
}

/**
 * `count_previous` at `t` from its tiles (hop index → state). Tiles outside the read's hops are
 * ignored; the caller guarantees they hold no event after `t`.
 */
export function evaluatePrevious(
  predicate: PreviousPredicate,
  eventTiles: Iterable<readonly [hop: number, events: readonly PreviousEvent[]]>,
  lastTiles: Iterable<readonly [hop: number, last: PreviousLast | null]>,
  t: number,
  windowMs: number,
  hopMs: number,
  memory: SequenceMemory,
): number {
  const M = memory.hopMs;
  const ws = windowStartUnchecked(t, windowMs, hopMs);
  const memStart = windowStartUnchecked(t, memory.ttlMs, M);
  const mh = Math.floor(ws / M);
  const fineFrom = Math.max(mh * M, memStart);
  const events: PreviousEvent[] = [];
  for (const [k, tile] of eventTiles) {
    if (k * hopMs + hopMs <= fineFrom || k * hopMs > t) continue;
    for (const e of tile) if (e[0] >= fineFrom && e[0] <= t) events.push(e);
  }
  events.sort(order);
  let before: PreviousLast | null = null;
  for (const [k, last] of lastTiles) {
    if (last !== null && k * M >= memStart && k < mh) before = mergePreviousLast(before, last);
  }
  let n = 0;
  let prev: Tuple | null = before;
  for (const e of events) {
    if (prev !== null && e[0] >= ws && e[3] === 1) {
      const holds =
        predicate.kind === 'gap_below'
          ? e[0] - prev[0] < predicate.ms
          : valuesDiffer(prev[2], e[2]);
      if (holds) n++;
    }
    prev = e;
  }
  return n;
}

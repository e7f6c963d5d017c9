/**
 * Online state of session features: per-hop tiles of *runs*. A run `[start, end, matches]` is a
 * maximal chain of the tile's events whose consecutive gaps are <= G, with the number of its
 * events matching the feature's predicate. Sessions depend only on the events' timestamps, so
 * runs of any tiles merge exactly (sort by start, join runs whose gap is <= G): the union of
 * tiles gives the sessions of the union of their events, whatever order events arrived in —
 * a late event starts, extends or merges runs. A tile of hop H holds at most
 * `floor(H / (G + 1ms)) + 1` runs, so the state is bounded by the number of hops kept.
 *
 * Where tiles live (see {@link sessionTileLayout}):
 * - `session_count` / `session_avg_duration`: hop H of the feature, kept for W + ceil(G/H)·H (a
 *   session starting at the window's start needs the G before it, to know it is a start);
 * - `current_session_*`: the view's memory hop M, kept for the TTL (the memory window).
 *
 * @example
 * let tile = sessionTileAdd([], ts, true, G);
 * evaluateSession(feature, [[hopIndex(ts, H), tile]], t, memory);
 */
import type { Scalar } from '../core/types.ts';
import type { SequenceMemory } from '../core/sequence.ts';
import type { SessionFeature } from './brute-force-sequence.ts';
import { windowHops, windowStartUnchecked } from './hop-window.ts';

/** `[start ms, end ms, events matching the feature's predicate]`. */
export type SessionRun = [start: number, end: number, matches: number];

const byStartEnd = (a: SessionRun, b: SessionRun): number => a[0] - b[0] || a[1] - b[1];

/**
 * Joins sorted-by-start runs whose gap is <= `gapMs`: into a fresh array of copied runs, or, with
 * `inPlace` (runs the caller owns), into `sorted` itself, a kept run extended by those it joins.
 */
function coalesce(sorted: SessionRun[], gapMs: number, inPlace = false): SessionRun[] {
  const out = inPlace ? sorted : [];
  let w = 0;
  for (let i = 0; i < sorted.length; i++) {
    const r = sorted[i]!;
    const cur = w > 0 ? out[w - 1]! : undefined;
    if (cur && r[0] - cur[1] <= gapMs) {
      cur[1] = Math.max(cur[1], r[1]);
      cur[2] += r[2];
    } else out[w++] = inPlace ? r : [r[0], r[1], r[2]];
  }
  out.length = w;
  return out;
}

/** Whether `tile`'s runs are in start, then end order (tiles always are). */
function isSorted(tile: readonly SessionRun[]): boolean {
  for (let i = 1; i < tile.length; i++) if (byStartEnd(tile[i - 1]!, tile[i]!) > 0) return false;
  return true;
}

/** Merges tiles (or any run lists) into the runs of their union; the inputs are not mutated. */
export function mergeSessionRuns(
  tiles: Iterable<readonly SessionRun[]>,
  gapMs: number,
): SessionRun[] {
  const all: SessionRun[] = [];
  for (const t of tiles) for (const r of t) all.push(r);
  all.sort(byStartEnd);
  return coalesce(all, gapMs);
}

/**
 * Adds one event to a tile; returns a new tile (the input is not mutated). The same as
 * `mergeSessionRuns([tile, [run]])`; a sorted tile (tiles always are) takes the run by
 * insertion after its last run ordered before or with it, as the stable sort places it.
 */
export function sessionTileAdd(
  tile: readonly SessionRun[],
  ts: number,
  match: boolean,
  gapMs: number,
): SessionRun[] {
  const run: SessionRun = [ts, ts, match ? 1 : 0];
  if (!isSorted(tile)) return mergeSessionRuns([tile, [run]], gapMs);
  const all = tile.slice();
  insertByStartEnd(all, run);
  return coalesce(all, gapMs);
}

/**
 * {@link sessionTileAdd} for a tile the caller owns (built by it from `[]` with this function,
 * never shared, not read again): the same runs, but the tile and its runs are reused instead of
 * copied. The stream worker's fold adds every event of a batch this way (the copies were a
 * tenth of the worker's garbage with every view). An unsorted tile takes the copying path.
 */
export function sessionTileAddOwned(
  tile: SessionRun[],
  ts: number,
  match: boolean,
  gapMs: number,
): SessionRun[] {
  if (!isSorted(tile)) return sessionTileAdd(tile, ts, match, gapMs);
  insertByStartEnd(tile, [ts, ts, match ? 1 : 0]);
  return coalesce(tile, gapMs, true);
}

/**
 * The hop and retention window of a session feature's tiles: a tile of hop `k` is read by
 * reads in `windowHops(t, windowMs, hopMs)` and can be dropped at `tileExpiresAt(k, windowMs,
 * hopMs)`.
 */
export function sessionTileLayout(
  f: SessionFeature,
  memory: SequenceMemory,
): { hopMs: number; windowMs: number } {
  if (f.windowMs === null || f.hopMs === null)
    return { hopMs: memory.hopMs, windowMs: memory.ttlMs };
  return { hopMs: f.hopMs, windowMs: f.windowMs + Math.ceil(f.gapMs / f.hopMs) * f.hopMs };
}

/**
 * A session feature at `t` from its tiles (hop index → runs, laid out by
 * {@link sessionTileLayout}); tiles outside the read's hops are ignored. The caller guarantees
 * the tiles hold no event after `t`.
 */
export function evaluateSession(
  f: SessionFeature,
  tiles: Iterable<readonly [hop: number, runs: readonly SessionRun[]]>,
  t: number,
  memory: SequenceMemory,
): Scalar | null {
  const layout = sessionTileLayout(f, memory);
  const { first, last } = windowHops(t, layout.windowMs, layout.hopMs);
  // The runs of the union (mergeSessionRuns), folded as they are joined instead of built: a
  // read evaluates every session feature of every entity, and the arrays were most of a
  // `recommendation_v2` row's garbage (young-generation collections are the read's p99).
  const sorted = scratch;
  sorted.length = 0;
  for (const [k, runs] of tiles)
    if (k >= first && k <= last) for (const r of runs) insertByStartEnd(sorted, r);
  const gapMs = f.gapMs;
  const current = f.kind === 'current_session_count' || f.kind === 'current_session_duration';
  const ws = current ? 0 : windowStartUnchecked(t, f.windowMs!, f.hopMs!);
  let started = 0;
  let seconds = 0;
  let start = 0;
  let end = 0;
  let matches = 0;
  for (let i = 0; i < sorted.length; i++) {
    const r = sorted[i]!;
    if (i > 0 && r[0] - end <= gapMs) {
      end = Math.max(end, r[1]);
      matches += r[2];
      continue;
    }
    if (i > 0 && start >= ws && matches > 0) {
      started++;
      seconds += (end - start) / 1000;
    }
    start = r[0];
    end = r[1];
    matches = r[2];
  }
  const any = sorted.length > 0;
  sorted.length = 0;
  if (current) {
    const isCurrent = any && t - end <= gapMs;
    if (f.kind === 'current_session_count') return isCurrent ? matches : 0;
    return isCurrent ? (end - start) / 1000 : null;
  }
  if (any && start >= ws && matches > 0) {
    started++;
    seconds += (end - start) / 1000;
  }
  if (f.kind === 'session_count') return started;
  if (started === 0) return null;
  return seconds / started;
}

/** {@link evaluateSession}'s runs, reused (it is synchronous); emptied after each call. */
const scratch: SessionRun[] = [];

/** Inserts `r` after every run ordered before or with it (a stable sort by start, then end). */
function insertByStartEnd(sorted: SessionRun[], r: SessionRun): void {
  let at = sorted.length;
  sorted.push(r);
  while (at > 0 && byStartEnd(sorted[at - 1]!, r) > 0) {
    sorted[at] = sorted[at - 1]!;
    at--;
  }
  sorted[at] = r;
}

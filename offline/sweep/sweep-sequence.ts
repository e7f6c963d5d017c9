/**
 * Sequence features (previous-event relations, gap sessions) in the point-in-time sweep. The
 * pass index holds every event of the pass in (ts, id) order per key; a sequence feature's
 * column encodes each event as `(code + 1) * 2 + match`: `match` whether the feature's `where`
 * holds, `code` the dictionary code of the compared field of `previous.changed(...)` (-1 for
 * none; equal codes are equal strings). Per key, prefix sums over consecutive pairs, matches
 * and sessions make each row O(1): a row's sessions in a window are the complete sessions
 * starting in it (prefix sums of their counts and durations, per key so they stay exact
 * integers) plus the one holding its last event, cut at that event. The session boundaries of a
 * gap are computed once per sweep and shared by the pass's features ({@link SequenceContext}).
 * Semantics: `aggregation/brute-force-sequence.ts` (the reference), memory window included.
 */
import { memoryHopMs, type PreviousPredicate, type SequenceKind } from '../../core/sequence.ts';
import type { PassIndex } from './pass-index.ts';

/** What a sequence feature adds to a sweep feature. */
export interface SweepSequence {
  previous: PreviousPredicate | null;
  gapMs: number | null;
  /** The view's TTL: the memory window. */
  ttlMs: number;
}

/** The parts of the sweep's row groups this needs (see `sweep.ts`). */
interface Rows {
  rowStart: Int32Array;
  order: Int32Array;
  t: Float64Array;
  keys: Int32Array;
}

/**
 * What the sequence features of one sweep share: the index, its rows, each row's bounds
 * (`hi`, and `lo(W, H)`: the first event at or after the window start, see `sweep.ts`), and
 * per session gap the session start of every event (`startOf`) — only for keys with rows.
 */
export class SequenceContext {
  readonly #starts = new Map<number, Int32Array>();
  readonly #sessions = new Map<Float64Array, Map<string, SessionRows>>();

  constructor(
    readonly index: PassIndex,
    readonly g: Rows,
    readonly hi: Int32Array,
    readonly lo: (windowMs: number, hopMs: number) => Int32Array,
  ) {}

  /** `startOf[j]`: the first event of event j's session (gap `gapMs`), keys with rows only. */
  startOf(gapMs: number): Int32Array {
    const known = this.#starts.get(gapMs);
    if (known) return known;
    const { offsets, ts } = this.index;
    const { keys } = this.g;
    const startOf = new Int32Array(ts.length);
    for (let ki = 0; ki < keys.length; ki++) {
      const k = keys[ki]!;
      const e0 = offsets[k]!;
      const e1 = offsets[k + 1]!;
      let s = e0;
      for (let j = e0; j < e1; j++) {
        if (j > e0 && ts[j]! - ts[j - 1]! > gapMs) s = j;
        startOf[j] = s;
      }
    }
    this.#starts.set(gapMs, startOf);
    return startOf;
  }

  /**
   * The session figures of `encoded`'s rows for `key` (what they depend on besides the
   * column), computed once: features of one input differ only in what they read of them (a
   * view's session count and average duration, its current session's events and duration).
   */
  sessions(encoded: Float64Array, key: string, compute: () => SessionRows): SessionRows {
    let byKey = this.#sessions.get(encoded);
    if (!byKey) this.#sessions.set(encoded, (byKey = new Map()));
    let known = byKey.get(key);
    if (!known) byKey.set(key, (known = compute()));
    return known;
  }
}

/**
 * Per row of a sweep (group order): the sessions' count and duration — in a window, the
 * matching sessions and their summed duration in ms; for the current session, its matching
 * events (NaN: no current session) and its duration in seconds.
 */
interface SessionRows {
  count: Float64Array;
  duration: Float64Array;
}

/**
 * Fills `out` (row order, NaN = null) for one sequence feature over `ctx`'s rows. The session
 * kinds read their rows' figures from the context ({@link SequenceContext.sessions}).
 */
export function sweepSequence(
  ctx: SequenceContext,
  encoded: Float64Array,
  kind: SequenceKind,
  windowMs: number | null,
  hopMs: number | null,
  seq: SweepSequence,
  out: Float64Array,
): void {
  const { order } = ctx.g;
  const mlo = ctx.lo(seq.ttlMs, memoryHopMs(seq.ttlMs));
  const lo = windowMs !== null && hopMs !== null ? ctx.lo(windowMs, hopMs) : null;
  const p = seq.previous;
  const G = seq.gapMs ?? 0;
  if (kind === 'count_previous') {
    sweepPrevious(ctx, encoded, p, lo!, mlo, out);
    return;
  }
  const current = kind === 'current_session_count' || kind === 'current_session_duration';
  const rows = current
    ? ctx.sessions(encoded, `current/${seq.ttlMs}/${G}`, () =>
        currentSessions(ctx, encoded, G, mlo),
      )
    : ctx.sessions(encoded, `window/${windowMs}/${hopMs}/${G}`, () =>
        windowSessions(ctx, encoded, G, lo!),
      );
  const { count, duration } = rows;
  for (let i = 0; i < order.length; i++) {
    const c = count[i]!;
    out[order[i]!] =
      kind === 'session_count'
        ? c
        : kind === 'session_avg_duration'
          ? c === 0
            ? NaN
            : duration[i]! / 1000 / c
          : kind === 'current_session_count'
            ? c === c
              ? c
              : 0
            : c === c
              ? duration[i]!
              : NaN;
  }
}

/** The widest key's events among the keys with rows. */
function widestKey(ctx: SequenceContext): number {
  const { offsets } = ctx.index;
  const { keys } = ctx.g;
  let widest = 0;
  for (let ki = 0; ki < keys.length; ki++) {
    const k = keys[ki]!;
    widest = Math.max(widest, offsets[k + 1]! - offsets[k]!);
  }
  return widest;
}

/**
 * `count_previous`: per key, prefix sums (relative to its first event e0: `pr[j - e0]` covers
 * events e0 … j-1) of the events related to their previous one, read at each row's bounds.
 */
function sweepPrevious(
  ctx: SequenceContext,
  encoded: Float64Array,
  p: PreviousPredicate | null,
  lo: Int32Array,
  mlo: Int32Array,
  out: Float64Array,
): void {
  const { index, g, hi } = ctx;
  const { offsets, ts, dup } = index;
  const { keys, rowStart, order } = g;
  const pr = new Int32Array(widestKey(ctx) + 1);
  // A replayed record's events (same time and id, `dup`) in the reference's order: by value
  // (no value first, then by code point: the dictionary's code order), then `where` false
  // first — ascending encodings. The index leaves them in its sort's order.
  const replays: number[] = [];
  let replayStart = -1;
  for (let ki = 0; ki < keys.length; ki++) {
    const k = keys[ki]!;
    const e0 = offsets[k]!;
    const e1 = offsets[k + 1]!;
    let prevCode = -1;
    for (let j = e0; j < e1; j++) {
      if (j + 1 < e1 && dup[j + 1] === 1 && dup[j] === 0) {
        replays.length = 0;
        for (let r = j; r < e1 && (r === j || dup[r] === 1); r++) replays.push(encoded[r]! | 0);
        replays.sort((a, b) => a - b);
        replayStart = j;
      } else if (replayStart >= 0 && j - replayStart >= replays.length) replayStart = -1;
      // Small non-negative integers: int arithmetic (a double `%` is a call to fmod).
      const e = replayStart >= 0 ? replays[j - replayStart]! : encoded[j]! | 0;
      const code = (e >> 1) - 1;
      let rel = 0;
      if (p && j > e0 && (e & 1) === 1)
        rel =
          p.kind === 'gap_below'
            ? Number(ts[j]! - ts[j - 1]! < p.ms)
            : Number(code >= 0 && prevCode >= 0 && code !== prevCode);
      pr[j - e0 + 1] = pr[j - e0]! + rel;
      prevCode = code;
    }
    for (let i = rowStart[k]!; i < rowStart[k + 1]!; i++) {
      const h = hi[i]!;
      const from = Math.max(lo[i]!, mlo[i]! + 1);
      out[order[i]!] = from < h ? pr[h - e0]! - pr[from - e0]! : 0;
    }
  }
}

/**
 * The current session of each row (the one holding its last event within the memory window,
 * if that event is at most the gap before the row): its matching events, from per-key prefix
 * sums of the matches (`pm[j - e0]` covers e0 … j-1), and its duration in seconds.
 */
function currentSessions(
  ctx: SequenceContext,
  encoded: Float64Array,
  G: number,
  mlo: Int32Array,
): SessionRows {
  const { index, g, hi } = ctx;
  const { offsets, ts } = index;
  const { keys, rowStart } = g;
  const startOf = ctx.startOf(G);
  const count = new Float64Array(g.order.length).fill(NaN);
  const duration = new Float64Array(g.order.length).fill(NaN);
  const pm = new Int32Array(widestKey(ctx) + 1);
  for (let ki = 0; ki < keys.length; ki++) {
    const k = keys[ki]!;
    const e0 = offsets[k]!;
    const e1 = offsets[k + 1]!;
    for (let j = e0; j < e1; j++) pm[j - e0 + 1] = pm[j - e0]! + ((encoded[j]! | 0) & 1);
    for (let i = rowStart[k]!; i < rowStart[k + 1]!; i++) {
      const h = hi[i]!;
      const m = mlo[i]!;
      const j = h - 1;
      if (h > m && g.t[i]! - ts[j]! <= G) {
        const s = Math.max(startOf[j]!, m);
        count[i] = pm[h - e0]! - pm[s - e0]!;
        duration[i] = (ts[j]! - ts[s]!) / 1000;
      }
    }
  }
  return { count, duration };
}

/**
 * The sessions of each row's window `[lo, hi)` holding a matching event: the complete ones
 * starting in it (per-key prefix sums of their counts and durations in ms, counted at their
 * first event, integers so the sums are exact) plus the one holding the row's last event, cut
 * there.
 */
function windowSessions(
  ctx: SequenceContext,
  encoded: Float64Array,
  G: number,
  lo: Int32Array,
): SessionRows {
  const { index, g, hi } = ctx;
  const { offsets, ts } = index;
  const { keys, rowStart } = g;
  const startOf = ctx.startOf(G);
  const count = new Float64Array(g.order.length);
  const duration = new Float64Array(g.order.length);
  const widest = widestKey(ctx);
  const pm = new Int32Array(widest + 1);
  const sc = new Int32Array(widest + 1);
  const sd = new Float64Array(widest + 1);
  for (let ki = 0; ki < keys.length; ki++) {
    const k = keys[ki]!;
    const e0 = offsets[k]!;
    const e1 = offsets[k + 1]!;
    for (let j = e0; j < e1; j++) pm[j - e0 + 1] = pm[j - e0]! + ((encoded[j]! | 0) & 1);
    for (let j = e0; j < e1;) {
      let end = j + 1;
      while (end < e1 && startOf[end] === j) end++;
      const counted = pm[end - e0]! - pm[j - e0]! > 0;
      const a = j - e0;
      sc[a + 1] = sc[a]! + (counted ? 1 : 0);
      sd[a + 1] = sd[a]! + (counted ? ts[end - 1]! - ts[j]! : 0);
      for (let q = a + 1; q < end - e0; q++) {
        sc[q + 1] = sc[q]!;
        sd[q + 1] = sd[q]!;
      }
      j = end;
    }
    for (let i = rowStart[k]!; i < rowStart[k + 1]!; i++) {
      const h = hi[i]!;
      const l = lo[i]!;
      let c = 0;
      let durationMs = 0;
      if (l < h) {
        // The session of the row's last event, cut there; the complete ones start in [l, s).
        const s = startOf[h - 1]!;
        if (s >= l) {
          c = sc[s - e0]! - sc[l - e0]!;
          durationMs = sd[s - e0]! - sd[l - e0]!;
          if (pm[h - e0]! - pm[s - e0]! > 0) {
            c++;
            durationMs += ts[h - 1]! - ts[s]!;
          }
        }
      }
      count[i] = c;
      duration[i] = durationMs;
    }
  }
  return { count, duration };
}

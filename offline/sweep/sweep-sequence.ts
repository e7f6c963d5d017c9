/**
 * Sequence features (previous-event relations, gap sessions) in the point-in-time sweep. The
 * pass index holds every event of the pass in (ts, id) order per key; a sequence feature's
 * column encodes each event as `(code + 1) * 2 + match`: `match` whether the feature's `where`
 * holds, `code` the dictionary code of the compared field of `previous.changed(...)` (-1 for
 * none; equal codes are equal strings). Per key, prefix sums over consecutive pairs and session
 * starts make each row O(1) (previous events, current session) or O(sessions in the window).
 * Semantics: `aggregation/brute-force-sequence.ts` (the reference), memory window included.
 */
import { windowStartUnchecked } from '../../aggregation/index.ts';
import { emptySequenceValue } from '../../aggregation/sequence-tiles.ts';
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

/** First index in [a, b) with ts >= x (b when none). */
function firstAtLeast(ts: Float64Array, a: number, b: number, x: number): number {
  while (a < b) {
    const m = (a + b) >>> 1;
    if (ts[m]! < x) a = m + 1;
    else b = m;
  }
  return a;
}

/**
 * Fills `out` (row order, NaN = null) for one sequence feature. `hi[i]` is one past the last
 * event with `ts <= t` of group row i.
 */
export function sweepSequence(
  index: PassIndex,
  g: Rows,
  hi: Int32Array,
  encoded: Float64Array,
  kind: SequenceKind,
  windowMs: number | null,
  hopMs: number | null,
  seq: SweepSequence,
  out: Float64Array,
): void {
  const { offsets, ts } = index;
  const n = ts.length;
  const M = memoryHopMs(seq.ttlMs);
  const match = new Uint8Array(n);
  const code = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const e = encoded[i]!;
    match[i] = e % 2;
    code[i] = Math.floor(e / 2) - 1;
  }
  // Prefix sums (absolute indices): matches, and for count_previous the related events.
  const pm = new Int32Array(n + 1);
  const pr = new Int32Array(n + 1);
  const isStart = new Uint8Array(n);
  const startOf = new Int32Array(n);
  const nextStart = new Int32Array(n + 1);
  const G = seq.gapMs ?? 0;
  const p = seq.previous;
  for (let ki = 0; ki < g.keys.length; ki++) {
    const k = g.keys[ki]!;
    const e0 = offsets[k]!;
    const e1 = offsets[k + 1]!;
    for (let j = e0; j < e1; j++) {
      pm[j + 1] = pm[j]! + match[j]!;
      let rel = 0;
      if (p && j > e0 && match[j] === 1) {
        rel =
          p.kind === 'gap_below'
            ? Number(ts[j]! - ts[j - 1]! < p.ms)
            : Number(code[j]! >= 0 && code[j - 1]! >= 0 && code[j] !== code[j - 1]);
      }
      pr[j + 1] = pr[j]! + rel;
      isStart[j] = j === e0 || ts[j]! - ts[j - 1]! > G ? 1 : 0;
      startOf[j] = isStart[j] ? j : startOf[j - 1]!;
    }
    nextStart[e1] = e1;
    for (let j = e1 - 1; j >= e0; j--) nextStart[j] = isStart[j] ? j : nextStart[j + 1]!;
  }
  const empty = emptySequenceValue(kind);
  for (let ki = 0; ki < g.keys.length; ki++) {
    const k = g.keys[ki]!;
    const e0 = offsets[k]!;
    for (let i = g.rowStart[k]!; i < g.rowStart[k + 1]!; i++) {
      const t = g.t[i]!;
      const h = hi[i]!;
      const mlo = firstAtLeast(ts, e0, h, windowStartUnchecked(t, seq.ttlMs, M));
      let value: number | null = empty;
      if (kind === 'count_previous') {
        const lo = firstAtLeast(ts, e0, h, windowStartUnchecked(t, windowMs!, hopMs!));
        const from = Math.max(lo, mlo + 1);
        value = from < h ? pr[h]! - pr[from]! : 0;
      } else if (kind === 'current_session_count' || kind === 'current_session_duration') {
        const j = h - 1;
        if (h > mlo && t - ts[j]! <= G) {
          const s = Math.max(startOf[j]!, mlo);
          value = kind === 'current_session_count' ? pm[h]! - pm[s]! : (ts[j]! - ts[s]!) / 1000;
        }
      } else {
        const lo = firstAtLeast(ts, e0, h, windowStartUnchecked(t, windowMs!, hopMs!));
        let count = 0;
        let durationMs = 0;
        for (let s = lo < h ? nextStart[lo]! : h; s < h;) {
          const next = nextStart[s + 1]!;
          const end = Math.min(next, h);
          if (pm[end]! - pm[s]! > 0) {
            count++;
            durationMs += ts[end - 1]! - ts[s]!;
          }
          s = next;
        }
        value = kind === 'session_count' ? count : count === 0 ? null : durationMs / 1000 / count;
      }
      out[g.order[i]!] = value ?? NaN;
    }
  }
}

import { MAX_LAST_N, type Scalar } from '../core/types.ts';
import type { Aggregator } from './aggregator.ts';
import { compareCodePoints } from './compare-code-points.ts';
import { compareScalars } from './compare-scalars.ts';
import { normalizeInput } from './normalize-input.ts';

/** One kept occurrence: `[ts, id, value]`. */
export type LastNEntry = [ts: number, id: string, value: Scalar];

/**
 * `last_n` partial state: at most `n` occurrences `[ts, id, value]`, newest first
 * (`[[1700000000000,"e9","p3"],[1699999990000,"e4","p1"]]`). With `distinct`, each value appears
 * once, as its newest occurrence.
 */
export type LastNState = LastNEntry[];

/**
 * Newest first, the order of `last`: greater ts, then greater id by code point, then (only for
 * a replayed id carrying another value) the greater value, so the order is total.
 */
export function newestFirst(a: LastNEntry, b: LastNEntry): number {
  if (a[0] !== b[0]) return a[0] > b[0] ? -1 : 1;
  return compareCodePoints(b[1], a[1]) || compareScalars(b[2], a[2]);
}

/**
 * The first `n` entries of the newest-first merge of two newest-first lists (entries are not
 * copied), each value once when `distinct` (a value is a repeat when an entry already taken
 * has the same type and string form, at most {@link MAX_LAST_N} to compare), without building
 * the merged list or a set of value keys: reads merge one state per tile, and those copies
 * were a fifth of the garbage of a `recommendation_v2` row; `add` merges a one-entry list.
 */
function mergeTop(
  a: readonly LastNEntry[],
  b: readonly LastNEntry[],
  n: number,
  distinct: boolean,
): LastNState {
  const out: LastNState = [];
  let i = 0;
  let j = 0;
  while (out.length < n && (i < a.length || j < b.length)) {
    const e = j >= b.length || (i < a.length && newestFirst(a[i]!, b[j]!) <= 0) ? a[i++]! : b[j++]!;
    if (distinct && takenValue(out, e[2])) continue;
    out.push(e);
  }
  return out;
}

/** Whether `out` has an entry of `v`'s type and string form (no keys built for equal values). */
function takenValue(out: readonly LastNEntry[], v: Scalar): boolean {
  for (let k = 0; k < out.length; k++) {
    const x = out[k]![2];
    if (typeof x === typeof v && (x === v || String(x) === String(v))) return true;
  }
  return false;
}

/**
 * `last_n` with its parameters: the `n` newest non-null values, newest first, ordered like
 * `last`; with `distinct`, the `n` newest distinct values, each at its newest occurrence. The
 * empty state finishes as `[]`, never null.
 *
 * Exact under any merge order: the top `n` of a union is the top `n` of the parts' tops, and
 * with `distinct` a value among the union's top `n` is among its part's top `n` (every value
 * ranked above it there is ranked above it in the union too). Entries are never mutated.
 *
 * @example
 * const agg = lastNAggregator(2, true);
 * let s = agg.init();
 * for (const [ts, id, v] of [[1, 'a', 'x'], [2, 'b', 'y'], [3, 'c', 'x']]) s = agg.add(s, v, ts, id, 1);
 * agg.finish(s); // ['x', 'y']
 */
export function lastNAggregator(n: number, distinct: boolean): Aggregator<LastNState> {
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_LAST_N)
    throw new RangeError(`last_n needs an integer n in 1..${MAX_LAST_N}, got ${n}`);
  return {
    kind: 'last_n',
    init: () => [],
    add(s, value, ts, id) {
      const v = normalizeInput(value);
      if (v === null) return s;
      return mergeTop(s, [[ts, id, v]], n, distinct);
    },
    merge: (a, b) => (b.length === 0 ? a : mergeTop(a, b, n, distinct)),
    finish: (s) => s.map((e) => e[2]),
  };
}

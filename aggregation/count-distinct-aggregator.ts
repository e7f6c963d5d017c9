import type { Aggregator } from './aggregator.ts';
import { compareCodePoints } from './compare-code-points.ts';
import { normalizeInput } from './normalize-input.ts';

/**
 * `count_distinct` partial state: the distinct non-null values seen, as strings
 * (`String(value)`), sorted by code point and without repeats: `["p1","p7"]`. A feature has one
 * input type, so the string form is as distinct as the value. Exact, and as large as the number
 * of distinct values in the tile (the price of exactness; see docs/online-store-format.md).
 */
export type CountDistinctState = string[];

/** Index of `key` in the sorted `s`, or `-(insertion point) - 1`. */
function search(s: readonly string[], key: string): number {
  let lo = 0;
  let hi = s.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const c = compareCodePoints(s[mid]!, key);
    if (c === 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -lo - 1;
}

/**
 * `count_distinct`: the number of distinct non-null values (0 for none). Merging is a set union,
 * so any order and grouping of tiles gives the same count.
 */
export const countDistinctAggregator: Aggregator<CountDistinctState> = {
  kind: 'count_distinct',
  init: () => [],
  add(s, value) {
    const v = normalizeInput(value);
    if (v === null) return s;
    const key = String(v);
    const i = search(s, key);
    if (i < 0) s.splice(-i - 1, 0, key);
    return s;
  },
  merge(a, b) {
    if (b.length === 0) return a;
    const out: string[] = [];
    let i = 0;
    let j = 0;
    while (i < a.length || j < b.length) {
      if (j >= b.length) out.push(a[i++]!);
      else if (i >= a.length) out.push(b[j++]!);
      else {
        const c = compareCodePoints(a[i]!, b[j]!);
        if (c <= 0) out.push(a[i++]!);
        else out.push(b[j++]!);
        if (c === 0) j++;
      }
    }
    return out;
  },
  finish: (s) => s.length,
};

import type { Scalar } from '../core/types.ts';
import type { Aggregator } from './aggregator.ts';
import { compareCodePoints } from './compare-code-points.ts';
import { isAggregableNumber, MAX_INPUT_MAGNITUDE, normalizeInput } from './normalize-input.ts';

/**
 * `mode` partial state: value → total weight, as a plain JSON object (`{"books": 3, "toys": 1}`).
 * Keys are the values as strings. Any key is safe, `"__proto__"` included: entries are read with
 * `Object.hasOwn` and written with `Object.defineProperty`, never through the prototype chain.
 */
export type ModeState = Record<string, number>;

function get(s: ModeState, key: string): number {
  return Object.hasOwn(s, key) ? (s[key] as number) : 0;
}

function addWeight(s: ModeState, key: string, weight: number): void {
  const value = get(s, key) + weight + 0; // `+ 0` turns -0 into 0, as JSON would
  Object.defineProperty(s, key, { value, writable: true, enumerable: true, configurable: true });
}

/**
 * `mode`: the value with the greatest total weight; ties go to the smallest value by code point.
 *
 * - Values are strings; a number or boolean input is keyed by `String(value)` (`1.5` → `"1.5"`,
 *   `true` → `"true"`) and `finish` returns that string. Null inputs are skipped.
 * - Weights default to 1 per occurrence and may be any number of magnitude at most
 *   {@link MAX_INPUT_MAGNITUDE} (another weight throws a RangeError: callers skip such a record's
 *   value, as for a null weight). A value seen with total weight ≤ 0 is still present: the mode is the maximum
 *   total weight, even when every total is negative.
 * - Weights add in float: with integer weights (quantities) whose totals stay within 2^53
 *   merges are exact; with fractional ones, or totals past 2^53, a tie may depend on merge
 *   order in the last bits (docs/concepts.md "Ties").
 */
export const modeAggregator: Aggregator<ModeState> = {
  kind: 'mode',
  init: () => ({}),
  add(s, value, _ts, _id, weight) {
    const v = normalizeInput(value);
    if (v === null) return s;
    if (!isAggregableNumber(weight))
      throw new RangeError(
        `mode weight must be at most ${MAX_INPUT_MAGNITUDE} in magnitude, got ${weight}`,
      );
    addWeight(s, String(v), weight);
    return s;
  },
  merge(a, b) {
    for (const key of Object.keys(b)) addWeight(a, key, b[key] as number);
    return a;
  },
  finish(s) {
    let best: string | null = null;
    let bestWeight = -Infinity;
    for (const [key, w] of Object.entries(s)) {
      if (
        best === null ||
        w > bestWeight ||
        (w === bestWeight && compareCodePoints(key, best) < 0)
      ) {
        best = key;
        bestWeight = w;
      }
    }
    return best as Scalar | null;
  },
};

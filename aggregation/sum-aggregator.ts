import type { Aggregator } from './aggregator.ts';
import { numericInput } from './normalize-input.ts';

/**
 * `sum`: state is the running sum (plain float addition; a tile merge and an offline SQL `SUM`
 * may differ in the last bits, compare with `floatsEqual`). Null inputs are skipped, so an empty
 * or all-null window is 0 (where SQL's `SUM` would give NULL: offline stores must `COALESCE`).
 * Throws a TypeError for a non-number input.
 */
export const sumAggregator: Aggregator<number> = {
  kind: 'sum',
  init: () => 0,
  add(s, value) {
    const v = numericInput('sum', value);
    return v === null ? s : s + v;
  },
  merge: (a, b) => a + b,
  finish: (s) => s,
};

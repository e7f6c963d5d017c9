import type { Scalar } from '../core/types.ts';
import type { Aggregator } from './aggregator.ts';
import { compareCodePoints } from './compare-code-points.ts';
import { compareScalars } from './compare-scalars.ts';
import { normalizeInput } from './normalize-input.ts';

/** `last` partial state: the winning non-null value with its event time and id (null: none yet). */
export interface LastState {
  readonly v: Scalar;
  readonly ts: number;
  readonly id: string;
}

/**
 * Orders `last` candidates: greater `ts` wins, then greater `id` by code point, then (only for
 * a replayed id carrying a different value) the greater value, so merging is commutative.
 */
export function compareLast(a: LastState, b: LastState): number {
  if (a.ts !== b.ts) return a.ts < b.ts ? -1 : 1;
  return compareCodePoints(a.id, b.id) || compareScalars(a.v, b.v);
}

function later(a: LastState | null, b: LastState | null): LastState | null {
  if (a === null) return b;
  if (b === null) return a;
  return compareLast(b, a) > 0 ? b : a;
}

/**
 * `last`: the non-null value of the event with the greatest timestamp; ties go to the greatest
 * id by code point. States are never mutated, so `merge` may return either argument.
 */
export const lastAggregator: Aggregator<LastState | null> = {
  kind: 'last',
  init: () => null,
  add(s, value, ts, id) {
    const v = normalizeInput(value);
    return v === null ? s : later(s, { v, ts, id });
  },
  merge: later,
  finish: (s) => (s === null ? null : s.v),
};

import type { Scalar } from '../core/types.ts';
import { compareCodePoints } from './compare-code-points.ts';
import { compareScalars } from './compare-scalars.ts';

/**
 * One event of an entity as sequence features see it (already past the view's filter and keys).
 * Every event takes part in the order (previous events, sessions); `match` says whether it also
 * satisfies the feature's own predicate (`where` / `containing`).
 */
export interface SequenceEvent {
  /** Event time, epoch ms. */
  readonly ts: number;
  /** Record id: orders events of equal `ts` by code point. */
  readonly id: string;
  /** The compared field of a `changed` relation; null otherwise. */
  readonly value: Scalar | null;
  /** Whether the feature's predicate holds for the event. */
  readonly match: boolean;
}

/**
 * The event order of sequence features: `ts`, then `id` by code point; then (only for a
 * replayed id) value with null first, then `match`, so that the order is total.
 */
export function compareEvents(
  a: Pick<SequenceEvent, 'ts' | 'id' | 'value'> & { match?: boolean },
  b: Pick<SequenceEvent, 'ts' | 'id' | 'value'> & { match?: boolean },
): number {
  if (a.ts !== b.ts) return a.ts < b.ts ? -1 : 1;
  const byId = compareCodePoints(a.id, b.id);
  if (byId !== 0) return byId;
  if (a.value !== b.value) {
    if (a.value === null) return -1;
    if (b.value === null) return 1;
    const c = compareScalars(a.value, b.value);
    if (c !== 0) return c;
  }
  return Number(a.match ?? false) - Number(b.match ?? false);
}

/** Whether two values of a `changed` relation differ: both non-null and not equal. */
export function valuesDiffer(a: Scalar | null, b: Scalar | null): boolean {
  return a !== null && b !== null && a !== b;
}

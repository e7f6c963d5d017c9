import type { FeatureValue, Scalar } from '../core/types.ts';

/** Every aggregation a feature definition can use. */
import type { AggregationKind } from '../core/types.ts';

export { AGGREGATION_KINDS, type AggregationKind, type AggregationParams } from '../core/types.ts';

/**
 * One aggregation as a fold over partial states, shared by the stream worker (per-hop tiles),
 * online reads (merging tiles) and tests. States are plain JSON values, so they can be stored
 * as tiles in Redis or SQLite and merged after `JSON.parse(JSON.stringify(state))`.
 *
 * Semantics are SQL's: `count` counts every record (its value is ignored; pass null), every
 * other kind skips null inputs. `weight` only matters for `mode`. `last_n` is the one
 * aggregation with parameters (`n`, `distinct`): build it with `aggregator('last_n', { n })`.
 *
 * @example
 * const agg = aggregator('sum');
 * let s = agg.init();
 * s = agg.add(s, 19.99, ts, 'tx-1', 1);
 * agg.finish(agg.merge(s, otherTile)); // number
 */
export interface Aggregator<S> {
  readonly kind: AggregationKind;
  /** The empty state (a fresh value each call, safe to mutate). */
  init(): S;
  /** Folds one record into `state`; may mutate `state` and returns the new state. */
  add(state: S, value: Scalar | null, ts: number, id: string, weight: number): S;
  /**
   * Combines two partial states; may mutate and return `a`, never mutates `b` nor returns an
   * object that a later `add`/`merge` could mutate through `b`. Associative and commutative.
   */
  merge(a: S, b: S): S;
  /**
   * The feature value of a state; the empty state gives 0 for count/sum/count_distinct, `[]`
   * for last_n, null otherwise.
   */
  finish(state: S): FeatureValue | null;
}

/** One input record as the aggregation library sees it (already filtered and projected). */
export interface AggregationEvent {
  /** Event time, epoch ms. */
  readonly ts: number;
  /** eventId / transactionId; breaks `last` ties by code point. */
  readonly id: string;
  /** The aggregation input; null is skipped by everything but `count`. */
  readonly value: Scalar | null;
  /** `mode` weight; defaults to 1. */
  readonly weight?: number;
}

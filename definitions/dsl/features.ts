/**
 * Feature builders for feature views: windowed aggregations and lifetime `last` values.
 * Types are inferred from the source schema (count → int64, sum/avg → float64 unless summing
 * int64, min/max/last/mode → the input's type); `type` overrides are checked against it.
 *
 * @example
 * features: {
 *   page_views_1h: count({ where: col('eventType').eq('page_view'), window: '1h' }),
 *   spend_30d: sum(col('totalAmount'), { window: '30d' }),
 *   preferred_category_30d: mode(col('orderItems[].category'), { weight: col('orderItems[].quantity'), window: '30d' }),
 *   last_platform: last(col('context.platform')),          // lifetime: no window
 *   distinct_products_24h: countDistinct(col('properties.productId'), { window: '24h' }),
 *   recently_viewed: lastN(col('properties.productId'), { n: 10, distinct: true, window: '7d' }),
 * }
 */
import type { Expr } from '../expr/expr.ts';
import type { AggregationKind, AggregationParams, ValueType } from '../../core/types.ts';
import type { Duration } from '../../core/duration.ts';
import type { PreviousPredicate, SequenceKind } from '../../core/sequence.ts';

export interface WindowOptions {
  /** Window length, whole minutes: `'5m'`, `'1h'`, `'30d'`. Omit on `last` for a lifetime value. */
  window?: Duration | string;
  /** Hop (tile size); defaults per the window: ≤ 1h → 1m, ≤ 7d → 1h, else 1d. */
  hop?: Duration | string;
  /** Only records matching this count toward the feature. */
  where?: Expr;
  /** Declared type; checked against the inferred one. */
  type?: ValueType;
  description?: string;
}

export interface FeatureDef {
  readonly aggregation: AggregationKind | SequenceKind;
  readonly input: Expr | null;
  readonly weight: Expr | null;
  readonly options: WindowOptions;
  /** `lastN`'s `n` and `distinct` as given (checked when the view is built); `{}` otherwise. */
  readonly params: AggregationParams;
  /** Sequence features only (`sequence-features.ts`). */
  readonly sequence?: {
    previous: PreviousPredicate | { error: string } | null;
    gap: string | null;
  };
}

const feature = (
  aggregation: AggregationKind,
  input: Expr | null,
  options: WindowOptions,
  weight: Expr | null = null,
  params: AggregationParams = {},
): FeatureDef => Object.freeze({ aggregation, input, weight, options, params });

/** Number of matching records in the window. */
export const count = (options: WindowOptions & { window: string }): FeatureDef =>
  feature('count', null, options);
/** Sum of a numeric input (nulls skipped; 0 for an empty window). */
export const sum = (input: Expr, options: WindowOptions & { window: string }): FeatureDef =>
  feature('sum', input, options);
/** Mean of a numeric input (null for an empty window). */
export const avg = (input: Expr, options: WindowOptions & { window: string }): FeatureDef =>
  feature('avg', input, options);
export const min = (input: Expr, options: WindowOptions & { window: string }): FeatureDef =>
  feature('min', input, options);
export const max = (input: Expr, options: WindowOptions & { window: string }): FeatureDef =>
  feature('max', input, options);
/**
 * The value of the newest record (ties: greatest record id). Without a window it is a lifetime
 * value, null once older than the view's TTL. Null inputs are skipped ("last non-null").
 */
export const last = (input: Expr, options: WindowOptions = {}): FeatureDef =>
  feature('last', input, options);
/** Most frequent value, weighted by `weight` (default 1); ties → smallest value. */
export const mode = (
  input: Expr,
  options: WindowOptions & { window: string; weight?: Expr },
): FeatureDef => {
  const { weight, ...rest } = options;
  return feature('mode', input, rest, weight ?? null);
};
/**
 * The exact number of distinct non-null values of `input` in the window (0 for an empty
 * window). Type int64.
 */
export const countDistinct = (
  input: Expr,
  options: WindowOptions & { window: string },
): FeatureDef => feature('count_distinct', input, options);

export interface LastNOptions extends WindowOptions {
  window: string;
  /** How many values to keep: an integer in 1..100. */
  n: number;
  /** Each value once, at the position of its newest occurrence (default false). */
  distinct?: boolean;
}

/**
 * The `n` newest non-null values of `input` in the window, newest first (ties: greatest record
 * id, as for `last`); with `distinct`, the `n` newest distinct values. An empty window gives
 * `[]`, never null. Type `string_list`, `int64_list` or `float64_list`, after the input.
 */
export const lastN = (input: Expr, options: LastNOptions): FeatureDef => {
  const { n, distinct, ...rest } = options;
  return feature('last_n', input, rest, null, { n, distinct: distinct ?? false });
};

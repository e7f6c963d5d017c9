import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../core/duration.ts';
import type { FeatureSpec, FeatureViewSpec } from '../../definitions/spec.ts';
import type { AggregationKind, ValueType } from '../../core/types.ts';

/** A feature spec without input (tests set what they need). */
export const feature = (
  name: string,
  aggregation: AggregationKind,
  type: ValueType,
  windowMs: number | null,
  hopMs: number | null,
): FeatureSpec => ({
  name,
  type,
  aggregation,
  input: null,
  weight: null,
  where: null,
  windowMs,
  hopMs,
  description: '',
});

const view = (
  name: string,
  entities: string[],
  ttlMs: number,
  features: FeatureSpec[],
): FeatureViewSpec => ({
  kind: 'feature_view',
  name,
  entities,
  keys: {},
  source: 'events',
  filter: null,
  ttlMs,
  online: true,
  features,
  description: '',
});

export const TTL_MS = DAY_MS;

/** A view with every kind of feature: windows on two hop sizes and lifetime features. */
export const activity = view('activity', ['user'], TTL_MS, [
  feature('clicks_1h', 'count', 'int64', HOUR_MS, MINUTE_MS),
  feature('clicks_5m', 'count', 'int64', 5 * MINUTE_MS, MINUTE_MS),
  feature('avg_1h', 'avg', 'float64', HOUR_MS, MINUTE_MS),
  feature('spend_7d', 'sum', 'float64', 7 * DAY_MS, HOUR_MS),
  feature('top_cat_1d', 'mode', 'string', DAY_MS, HOUR_MS),
  feature('max_1d', 'max', 'float64', DAY_MS, HOUR_MS),
  feature('last_kind', 'last', 'string', null, null),
  feature('last_ts', 'last', 'int64', null, null),
]);

/** A second view of the same entity (two views in one read, one cluster slot per entity). */
export const purchases = view('purchases', ['user'], 90 * DAY_MS, [
  feature('orders_30d', 'count', 'int64', 30 * DAY_MS, DAY_MS),
  feature('last_amount', 'last', 'float64', null, null),
]);

/**
 * A view keyed by two entities (user and product, entity keys `encodeEntityKey([u, p])`) with
 * the list and distinct aggregations: count_distinct, last_n (n = 3) and last_n distinct (n = 2).
 */
export const interest = view('interest', ['user', 'product'], 30 * DAY_MS, [
  feature('distinct_1h', 'count_distinct', 'int64', HOUR_MS, MINUTE_MS),
  { ...feature('recent_1h', 'last_n', 'string_list', HOUR_MS, MINUTE_MS), n: 3, distinct: false },
  {
    ...feature('recent_distinct_1d', 'last_n', 'string_list', DAY_MS, HOUR_MS),
    n: 2,
    distinct: true,
  },
]);

export const TEST_VIEWS = [activity, purchases, interest];

/**
 * A small feature repository for the offline-store conformance suite: one source `ev` with a
 * map field, every aggregation kind over a 1h window (1m hops), windowed and lifetime `last`,
 * a per-feature `where`, a view filter, `toNumber` of a map value, and an on-demand view with a
 * request field. TTL 1d. The view `lists` (not in the service `all`) has count_distinct and
 * last_n features of a string, a map value, a float and an int. The view `seq` (not in `all`)
 * has sequence features: 5-minute gap sessions and previous-event relations, TTL 2d.
 */
export const CONFORMANCE_REPO = `
import { z } from 'zod';
import {
  avg, batchSource, col, count, countDistinct, entity, feature, featureService, featureView, last,
  lastN, max, min, mode, onDemandFeatureView, requestField, sum, countWhere, previous, sessions,
} from 'larder';
export const user = entity({ name: 'user', joinKey: 'user_id' });
export const ev = batchSource({
  name: 'ev',
  path: 'raw/ev',
  bigqueryTable: 'ev',
  schema: z.object({
    id: z.string(),
    userId: z.string().nullable(),
    kind: z.enum(['click', 'view', 'buy']),
    amount: z.number(),
    attrs: z.record(z.string(), z.string()),
    ts: z.number().int(),
  }),
  timestampField: 'ts',
  idField: 'id',
});
export const stats = featureView({
  name: 'stats', entities: [user], source: ev, keys: { user_id: col('userId') },
  filter: col('userId').isNotNull(), ttl: '1d',
  features: {
    n_1h: count({ window: '1h' }),
    clicks_1h: count({ where: col('kind').eq('click'), window: '1h' }),
    sum_1h: sum(col('amount'), { window: '1h' }),
    avg_1h: avg(col('amount'), { window: '1h' }),
    min_1h: min(col('amount'), { window: '1h' }),
    max_1h: max(col('amount'), { window: '1h' }),
    last_kind_1h: last(col('kind'), { window: '1h' }),
    mode_kind_1h: mode(col('kind'), { window: '1h' }),
    price: last(col('attrs.price').toNumber()),
    color: last(col('attrs.color')),
  },
});
export const scaled = onDemandFeatureView({
  name: 'scaled', entities: [user],
  inputs: { sum_1h: feature(stats, 'sum_1h', 'float64'), factor: requestField('factor', 'float64') },
  features: { scaled_sum: 'float64' },
  transform: ({ sum_1h, factor }) => ({
    scaled_sum: sum_1h.map((s, i) => (s === null || factor[i] === null ? null : s * (factor[i] as number))),
  }),
});
export const all = featureService({ name: 'all', features: [stats] });
export const lists = featureView({
  name: 'lists', entities: [user], source: ev, keys: { user_id: col('userId') },
  filter: col('userId').isNotNull(), ttl: '1d',
  features: {
    kinds_1h: countDistinct(col('kind'), { window: '1h' }),
    colors_1h: countDistinct(col('attrs.color'), { where: col('kind').ne('buy'), window: '1h' }),
    recent_kinds_1h: lastN(col('kind'), { n: 3, window: '1h' }),
    recent_colors_1h: lastN(col('attrs.color'), { n: 2, distinct: true, window: '1h' }),
    recent_amounts_1h: lastN(col('amount'), { n: 10, distinct: true, window: '1h' }),
    recent_ts_1h: lastN(col('ts'), { n: 2, window: '1h' }),
  },
});
export const listSize = onDemandFeatureView({
  name: 'list_size', entities: [user],
  inputs: { recent: feature(lists, 'recent_kinds_1h', 'string_list') },
  features: { n_recent: 'int64', newest_kind: 'string' },
  transform: ({ recent }) => ({
    n_recent: recent.map((l) => (l === null ? null : l.length)),
    newest_kind: recent.map((l) => (l === null || l.length === 0 ? null : l[0]!)),
  }),
});
const visits = sessions({ gap: '5m' });
export const seq = featureView({
  name: 'seq', entities: [user], source: ev, keys: { user_id: col('userId') },
  filter: col('userId').isNotNull(), ttl: '2d',
  features: {
    sessions_1h: visits.count({ window: '1h' }),
    buy_sessions_1h: visits.count({ containing: col('kind').eq('buy'), window: '1h' }),
    avg_session_1h_s: visits.avgDuration({ window: '1h' }),
    current_events: visits.current.count(),
    current_clicks: visits.current.count({ where: col('kind').eq('click') }),
    current_duration_s: visits.current.duration(),
    fast_1h: countWhere(previous.gapBelow('100ms'), { window: '1h' }),
    color_changes_1h: countWhere(previous.changed(col('attrs.color')), { window: '1h' }),
    click_kind_changes_1h: countWhere(previous.changed(col('kind')), { where: col('kind').eq('click'), window: '1h' }),
  },
});
`;

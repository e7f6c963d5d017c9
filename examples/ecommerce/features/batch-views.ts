/**
 * Batch views (spec "Batch views: SQL snapshots"): daily SQL snapshots over the batch sources.
 * The snapshot at D reads the records with D − window <= ts < D; at t the snapshot
 * D = floor(t / 1d) · 1d applies, and an entity without a row in it has null features.
 */
import { batchView, col, featureService } from 'larder';
import { product, user } from './entities.ts';
import { transactions, userEvents } from './sources.ts';

/** The original batch layer's schedule (spec: the daily Airflow DAG). */
const DAILY_AT_2 = { cron: '0 2 * * *', retries: 2, retryDelay: '5m', timeout: '2h' } as const;

/** RFM segments of the users with completed orders in the 30 days before D. */
export const userSegments = batchView({
  name: 'user_segments',
  entities: [user],
  source: transactions,
  columns: { user_id: col('userId'), total_amount: col('totalAmount') },
  filter: col('status').eq('completed'),
  window: '30d',
  every: '1d',
  ttl: '1d',
  // `larder scheduler` refreshes the snapshot as the original pipeline's Airflow DAG did: daily
  // at 02:00 UTC, 2 retries 5 minutes apart, a 2 h timeout, no catch-up.
  materialization: DAILY_AT_2,
  query: `
    SELECT user_id, recency_days, frequency_30d, monetary_30d,
      CASE
        WHEN frequency_30d >= 5 AND monetary_30d >= 1000 AND recency_days <= 7 THEN 'champion'
        WHEN frequency_30d >= 3 THEN 'loyal'
        WHEN recency_days > 14 THEN 'at_risk'
        WHEN frequency_30d = 1 THEN 'new'
        ELSE 'regular'
      END AS segment
    FROM (
      SELECT user_id,
        CAST(FLOOR((@snapshot_ms - MAX(ts)) / 86400000) AS BIGINT) AS recency_days,
        COUNT(*) AS frequency_30d,
        SUM(total_amount) AS monetary_30d
      FROM source
      GROUP BY user_id
    ) AS rfm`,
  features: {
    recency_days: { type: 'int64', description: 'Whole days from the newest order to D.' },
    frequency_30d: { type: 'int64', description: 'Completed orders in the 30 days before D.' },
    monetary_30d: { type: 'float64', description: 'Sum of their totalAmount.' },
    segment: { type: 'string', description: 'champion, loyal, at_risk, new or regular.' },
  },
  description:
    "Daily RFM segmentation over 30 days of completed orders (the original pipeline's job).",
});

/** Weighted event counts per product over the 7 days before D. */
export const productPopularity = batchView({
  name: 'product_popularity',
  entities: [product],
  source: userEvents,
  columns: {
    product_id: col('properties.productId'),
    event_type: col('eventType'),
    user_id: col('userId'),
  },
  filter: col('properties.productId').isNotNull(),
  window: '7d',
  every: '1d',
  ttl: '1d',
  // `larder scheduler` refreshes the snapshot as the original pipeline's Airflow DAG did: daily
  // at 02:00 UTC, 2 retries 5 minutes apart, a 2 h timeout, no catch-up.
  materialization: DAILY_AT_2,
  query: `
    SELECT product_id,
      (SUM(CASE WHEN event_type = 'page_view' THEN 1 ELSE 0 END)
        + 3 * SUM(CASE WHEN event_type = 'add_to_cart' THEN 1 ELSE 0 END)
        + 10 * SUM(CASE WHEN event_type = 'purchase' THEN 1 ELSE 0 END)) / 7 AS popularity_score,
      COUNT(DISTINCT CASE WHEN event_type = 'page_view' THEN user_id END) AS distinct_viewers_7d
    FROM source
    GROUP BY product_id`,
  features: {
    popularity_score: {
      type: 'float64',
      description: '(page views + 3 × add_to_cart + 10 × purchase) / 7.',
    },
    distinct_viewers_7d: { type: 'int64', description: 'Distinct users who viewed it.' },
  },
  description: 'Daily product popularity over the 7 days before D.',
});

/** The batch views for (user_id, product_id) rows. */
export const batchV1 = featureService({
  name: 'batch_v1',
  description: 'Daily SQL snapshots: user segments and product popularity.',
  features: [userSegments, productPopularity],
});

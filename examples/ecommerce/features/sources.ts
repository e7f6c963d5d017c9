import { batchSource, streamSource } from 'larder';
import { EVENT_TYPES, TransactionSchema, UserEventSchema } from './schemas.ts';

export const userEventsBatch = batchSource({
  name: 'user_events_batch',
  path: 'raw/user_events',
  bigqueryTable: 'user_events',
  schema: UserEventSchema,
  timestampField: 'timestamp',
  idField: 'eventId',
  // The keys events carry (spec: properties); reading any other key is refused as a typo.
  mapKeys: { properties: ['productId', 'category', 'price', 'page', 'query', 'amount'] },
  description: 'Clickstream history: JSON Lines / Parquet files, or the BigQuery table.',
  // Checked by `larder validate` (docs/monitoring.md).
  expect: {
    fields: {
      eventId: { notNull: true },
      sessionId: { notNull: true },
      eventType: { allowed: [...EVENT_TYPES] },
      // Deliberately strict: anonymous visitors have no userId, so this fails on the
      // example's own data — the demo shows it in its validation report.
      userId: { notNull: true },
    },
    maxRejectRate: 0.01,
    freshness: '1d',
  },
});

export const transactionsBatch = batchSource({
  name: 'transactions_batch',
  path: 'raw/transactions',
  bigqueryTable: 'transactions',
  schema: TransactionSchema,
  timestampField: 'timestamp',
  idField: 'transactionId',
  description: 'Order history: JSON Lines / Parquet files, or the BigQuery table.',
});

/** Topic `user-events`, or $LARDER_TOPIC_USER_EVENTS. */
export const userEvents = streamSource({
  name: 'user_events',
  topic: 'user-events',
  encoding: 'json',
  avroSchema: 'avro/events.avsc',
  batchSource: userEventsBatch,
  // The original pipeline's topic: 24 partitions, 7 days. `larder topics apply` creates it;
  // on a single local broker the replication factor is capped to 1 (with a warning).
  topicSettings: { partitions: 24, replicationFactor: 3, retention: '7d', cleanupPolicy: 'delete' },
  description: 'Clickstream: one UserEvent per record, key = userId (or sessionId).',
});

/** Topic `transactions`, or $LARDER_TOPIC_TRANSACTIONS. */
export const transactions = streamSource({
  name: 'transactions',
  topic: 'transactions',
  encoding: 'json',
  avroSchema: 'avro/transactions.avsc',
  batchSource: transactionsBatch,
  topicSettings: {
    partitions: 12,
    replicationFactor: 3,
    retention: '30d',
    cleanupPolicy: 'delete',
  },
  description: 'Orders: one Transaction per record, key = userId.',
});

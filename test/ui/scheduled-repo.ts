/** A repository with scheduled views (a feature view every hour, a batch view at 02:00) and one without. */
export const SCHEDULED_REPO = `
import { z } from 'zod';
import { batchSource, batchView, col, count, entity, featureView } from 'larder';
export const user = entity({ name: 'user', joinKey: 'user_id' });
export const events = batchSource({
  name: 'events',
  schema: z.object({ id: z.string(), userId: z.string(), ts: z.number().int() }),
  timestampField: 'ts',
  idField: 'id',
});
export const activity = featureView({
  name: 'activity', entities: [user], source: events, keys: { user_id: col('userId') }, ttl: '1d',
  materialization: { every: '1h', retries: 2 },
  features: { events_1h: count({ window: '1h' }) },
});
export const plain = featureView({
  name: 'plain', entities: [user], source: events, keys: { user_id: col('userId') }, ttl: '1d',
  features: { events_1d: count({ window: '1d' }) },
});
export const counts = batchView({
  name: 'counts', entities: [user], source: events, columns: { user_id: col('userId') },
  cron: '0 2 * * *', ttl: '2d', materialization: {},
  query: 'SELECT user_id, COUNT(*) AS n FROM source GROUP BY user_id',
  features: { n: 'int64' },
});
`;

import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

/**
 * Writes a throw-away feature repository (files importing 'larder') inside the project, so the
 * package self-reference resolves, and returns its folder. Remove it with `cleanup()`.
 */
export function tempRepo(files: Record<string, string>): { dir: string; cleanup: () => void } {
  const dir = join(ROOT, '.cache', 'test-repos', `repo-${randomUUID()}`);
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export const tempDir = (): { dir: string; cleanup: () => void } => {
  const dir = join(ROOT, '.cache', 'test-tmp', randomUUID());
  mkdirSync(dir, { recursive: true });
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
};

/** A minimal valid repository: one entity, one batch source, one view; `extra` is appended. */
export const BASE_REPO = `
import { z } from 'zod';
import { batchSource, col, count, entity, featureView, last, sum } from 'larder';
export const user = entity({ name: 'user', joinKey: 'user_id' });
export const events = batchSource({
  name: 'events',
  schema: z.object({ id: z.string(), userId: z.string().nullable(), kind: z.string(), amount: z.number(), ts: z.number().int() }),
  timestampField: 'ts',
  idField: 'id',
});
export const activity = featureView({
  name: 'activity', entities: [user], source: events, keys: { user_id: col('userId') }, ttl: '30d',
  features: {
    clicks_1h: count({ where: col('kind').eq('click'), window: '1h' }),
    spend_7d: sum(col('amount'), { window: '7d' }),
    last_kind: last(col('kind')),
  },
});
`;

/** A batch view over {@link BASE_REPO}'s `events` (its file imports `./repo.ts`): each user's
 * 7-day spend, snapshotted daily. */
export const SPEND_BATCH_VIEW = `
import { batchView, col } from 'larder';
import { events, user } from './repo.ts';
export const spend = batchView({
  name: 'spend', entities: [user], source: events,
  columns: { user_id: col('userId'), amount: col('amount') },
  window: '7d', every: '1d', ttl: '7d',
  query: 'SELECT user_id, SUM(amount) AS snap_spend FROM source GROUP BY user_id',
  features: { snap_spend: 'float64' },
});
`;

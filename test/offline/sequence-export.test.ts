/**
 * Point-in-time export of sequence features (sessions, previous-event relations) by the DuckDB
 * sweep engine equals the reference on random histories: ties in ts, gaps at G ± 1 and at the
 * threshold, rows before, between and after events, forgotten (older than the TTL window)
 * events — for both DuckDB engines (sweep and SQL).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { floatsEqual } from '../../aggregation/index.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../core/duration.ts';
import { loadRepository } from '../../definitions/load.ts';
import { DuckDBOfflineStore } from '../../offline/duckdb/duckdb-offline-store.ts';
import { referenceFeatures } from '../../reference/index.ts';
import { tempRepo } from '../support/temp-repo.ts';

const repoDir = tempRepo({
  'repo.ts': `
import { z } from 'zod';
import { batchSource, col, countWhere, entity, featureView, previous, sessions } from 'larder';
export const user = entity({ name: 'user', joinKey: 'user_id' });
export const events = batchSource({
  name: 'events', path: 'raw/events',
  schema: z.object({ id: z.string(), userId: z.string().nullable(), kind: z.string(), ip: z.string().nullable(), ts: z.number().int() }),
  timestampField: 'ts',
  idField: 'id',
});
const visits = sessions({ gap: '5m' });
export const seq = featureView({
  name: 'seq', entities: [user], source: events, keys: { user_id: col('userId') },
  filter: col('kind').ne('ignored'), ttl: '2d',
  features: {
    sessions_1h: visits.count({ window: '1h' }),
    converted_1h: visits.count({ containing: col('kind').eq('purchase'), window: '1h' }),
    avg_session_1h_s: visits.avgDuration({ window: '1h' }),
    current_events: visits.current.count(),
    current_page_views: visits.current.count({ where: col('kind').eq('page_view') }),
    current_duration_s: visits.current.duration(),
    fast_1h: countWhere(previous.gapBelow('100ms'), { window: '1h' }),
    ip_changes_1h: countWhere(previous.changed(col('ip')), { window: '1h' }),
    views_ip_changes_1h: countWhere(previous.changed(col('ip')), { where: col('kind').eq('page_view'), window: '1h' }),
  },
});
`,
});
const dir = mkdtempSync(join(tmpdir(), 'larder-seq-'));
mkdirSync(join(dir, 'data/raw/events'), { recursive: true });
afterAll(() => {
  repoDir.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

const T0 = 1_700_006_400_000; // a whole day
const G = 5 * MINUTE_MS;
const USERS = ['u1', 'u2', 'u3', 'u4'];
const offset = fc.oneof(
  { arbitrary: fc.integer({ min: -3 * HOUR_MS, max: HOUR_MS }), weight: 4 },
  { arbitrary: fc.integer({ min: -3 * DAY_MS, max: DAY_MS }), weight: 1 },
  {
    arbitrary: fc
      .tuple(fc.constantFrom(MINUTE_MS, HOUR_MS, DAY_MS, G), fc.integer({ min: -3, max: 3 }))
      .chain(([u, k]) => fc.constantFrom(k * u, k * u - 1, k * u + 1, k * u + 99, k * u + 100)),
    weight: 2,
  },
);
const recordsArb = fc.array(
  fc.record({
    user: fc.constantFrom(...USERS),
    at: offset,
    id: fc.string({ unit: fc.constantFrom('a', 'B', '\u{1F600}'), minLength: 1, maxLength: 2 }),
    kind: fc.constantFrom('page_view', 'purchase', 'click', 'ignored'),
    ip: fc.option(fc.constantFrom('1.1.1.1', '2.2.2.2', '\u{1F600}'), { nil: null }),
  }),
  { maxLength: 80 },
);
const rowsArb = fc.array(
  fc.record({ user_id: fc.constantFrom(...USERS, 'u-never'), event_timestamp: offset }),
  { minLength: 60, maxLength: 60 },
);

/**
 * Fixed history of user `m`, in every run: an IP change whose previous event lies before the
 * memory window (forgotten), and a session chained every 4 minutes for 2.5 days, longer than
 * the memory window (the current session starts at its oldest remembered event).
 */
const FIXED = [
  { id: 'm-old', userId: 'm', kind: 'click', ip: 'ip1', ts: T0 - 3 * DAY_MS },
  { id: 'm-new', userId: 'm', kind: 'click', ip: 'ip2', ts: T0 - 10 * MINUTE_MS },
  ...Array.from({ length: 900 }, (_, i) => ({
    id: `c${i}`,
    userId: 'chain',
    kind: i % 2 ? 'page_view' : 'click',
    ip: null,
    ts: T0 - 2.5 * DAY_MS + i * 4 * MINUTE_MS,
  })),
];
const FIXED_ROWS = [
  { user_id: 'm', event_timestamp: T0 },
  { user_id: 'chain', event_timestamp: T0 - 2.5 * DAY_MS + 899 * 4 * MINUTE_MS + 1 },
  { user_id: 'chain', event_timestamp: T0 - DAY_MS },
];

const CONFIGS = [
  { name: 'sweep', options: {} },
  { name: 'sweep, 7-event partitions, inline', options: { partitionEvents: 7, sweepThreads: 1 } },
  { name: 'sql engine', options: { engine: 'sql' as const } },
];

describe.each(CONFIGS)('sequence features: export = reference, $name', (config) => {
  it('agrees on random histories', async () => {
    const repo = await loadRepository(repoDir.dir);
    const features = repo.resolveFeatures({
      features: repo.featureViews.get('seq')!.spec.features.map((f) => `seq:${f.name}`),
    });
    const store = new DuckDBOfflineStore({
      type: 'duckdb',
      dataDir: join(dir, 'data'),
      home: join(dir, `home-${config.name.replaceAll(/\W/g, '-')}`),
      memoryLimit: '1GB',
      ...config.options,
    });
    await store.init();
    let nonZero = 0;
    try {
      await fc.assert(
        fc.asyncProperty(recordsArb, rowsArb, async (rs, rs2) => {
          const records = [
            ...FIXED,
            ...rs.map((r, i) => ({
              id: `${r.id}${i % 5}`,
              userId: r.user,
              kind: r.kind,
              ip: r.ip,
              ts: T0 + r.at,
            })),
          ];
          const rows = [
            ...FIXED_ROWS,
            ...rs2.map((r) => ({ user_id: r.user_id, event_timestamp: T0 + r.event_timestamp })),
          ];
          writeFileSync(
            join(dir, 'data/raw/events/events.jsonl'),
            records.map((e) => JSON.stringify(e)).join('\n') + '\n',
          );
          const got = await store.exportPointInTime({
            repo,
            features,
            entities: { type: 'rows', rows },
            out: { type: 'memory' },
          });
          const want = referenceFeatures(repo, { events: records }, rows, features);
          expect(got.data).toHaveLength(rows.length);
          got.data!.forEach((row, i) => {
            for (const [k, v] of Object.entries(want[i]!)) {
              if (typeof v === 'number' && v !== 0) nonZero++;
              const same =
                typeof row[k] === 'number' && typeof v === 'number'
                  ? floatsEqual(row[k] as number, v)
                  : row[k] === v;
              if (!same)
                expect({ row: i, entity: rows[i], feature: k, got: row[k] }).toEqual({
                  row: i,
                  entity: rows[i],
                  feature: k,
                  got: v,
                });
            }
          });
        }),
        { numRuns: 25 },
      );
    } finally {
      await store.close();
    }
    expect(nonZero).toBeGreaterThan(100);
  }, 120_000);
});

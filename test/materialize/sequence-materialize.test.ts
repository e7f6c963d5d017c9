/**
 * `materialize` (and a resumed, incremental run) of sequence features from DuckDB into SQLite:
 * the stored states read as the reference at times ≥ the end, for random histories — including
 * a plain `count` sharing its hop's tile fields with session states (a field is written whole).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { floatsEqual } from '../../aggregation/index.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../core/duration.ts';
import { loadRepository } from '../../definitions/load.ts';
import { materialize } from '../../materialize/materialize.ts';
import { DuckDBOfflineStore } from '../../offline/duckdb/duckdb-offline-store.ts';
import { createOnlineStore } from '../../online/create-online-store.ts';
import { referenceFeatures } from '../../reference/index.ts';
import { tempRepo } from '../support/temp-repo.ts';

const repoDir = tempRepo({
  'repo.ts': `
import { z } from 'zod';
import { batchSource, col, count, countWhere, entity, featureView, previous, sessions } from 'larder';
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
    clicks_2h: count({ where: col('kind').eq('click'), window: '2h', hop: '1h' }),
    sessions_2h: visits.count({ window: '2h', hop: '1h' }),
    converted_2h: visits.count({ containing: col('kind').eq('purchase'), window: '2h', hop: '1h' }),
    avg_session_2h_s: visits.avgDuration({ window: '2h', hop: '1h' }),
    current_events: visits.current.count(),
    current_page_views: visits.current.count({ where: col('kind').eq('page_view') }),
    current_duration_s: visits.current.duration(),
    fast_1h: countWhere(previous.gapBelow('100ms'), { window: '1h' }),
    ip_changes_1h: countWhere(previous.changed(col('ip')), { window: '1h' }),
  },
});
`,
});
const dir = mkdtempSync(join(tmpdir(), 'larder-seq-mat-'));
mkdirSync(join(dir, 'data/raw/events'), { recursive: true });
afterAll(() => {
  repoDir.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

// Behind the wall clock (the offline store rejects records stamped after now + 5 min); the
// online store runs on the fixed clock END, so nothing a read at END or later needs is dropped.
const END = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS - 10 * MINUTE_MS + 1234;
const G = 5 * MINUTE_MS;
const USERS = ['u1', 'u2', 'u3', 'u4', 'u5'];
const READS = [0, 1, 4 * MINUTE_MS, G + 1, HOUR_MS + 1, 25 * HOUR_MS];

const recordsArb = fc.array(
  fc.record({
    user: fc.constantFrom(...USERS),
    at: fc.oneof(
      { arbitrary: fc.integer({ min: -4 * HOUR_MS, max: 0 }), weight: 4 },
      { arbitrary: fc.integer({ min: -3 * DAY_MS, max: 0 }), weight: 1 },
      { arbitrary: fc.constantFrom(0, -1, -99, -100, -G, -G - 1, -3 * HOUR_MS), weight: 1 },
    ),
    id: fc.string({ unit: fc.constantFrom('a', 'B'), minLength: 1, maxLength: 2 }),
    kind: fc.constantFrom('page_view', 'purchase', 'click', 'ignored'),
    ip: fc.option(fc.constantFrom('1.1.1.1', '2.2.2.2'), { nil: null }),
  }),
  { maxLength: 120 },
);

describe('materialize: sequence features', () => {
  it('full and resumed runs read as the reference', async () => {
    const repo = await loadRepository(repoDir.dir);
    const spec = repo.featureViews.get('seq')!.spec;
    const features = repo.resolveFeatures({
      features: spec.features.map((f) => `seq:${f.name}`),
    });
    const samples = fc.sample(recordsArb, { seed: 14, numRuns: 6 });
    let nonZero = 0;
    for (const [n, rs] of samples.entries()) {
      const records = rs.map((r, i) => ({
        id: `${r.id}${i % 4}`,
        userId: r.user,
        kind: r.kind,
        ip: r.ip,
        ts: END + r.at,
      }));
      writeFileSync(
        join(dir, 'data/raw/events/events.jsonl'),
        records.map((e) => JSON.stringify(e)).join('\n') + '\n',
      );
      const offline = new DuckDBOfflineStore({
        type: 'duckdb',
        dataDir: join(dir, 'data'),
        home: join(dir, `home-${n}`),
      });
      const online = createOnlineStore(
        { type: 'sqlite', path: join(dir, `online-${n}.sqlite`) },
        { namespace: 'seq', views: [spec], clock: () => END },
      );
      await Promise.all([offline.init(), online.init()]);
      try {
        if (n % 2 === 0) {
          const [r] = await materialize({ repo, offline, online, end: END });
          expect(r!.rejects).toEqual([]);
        } else {
          // resumed: up to 3h before, then from there (materialize-incremental's start)
          const mid = END - 3 * HOUR_MS;
          await materialize({ repo, offline, online, end: mid });
          await materialize({ repo, offline, online, end: END, start: () => mid });
        }
        const users = [...USERS, 'nobody'];
        for (const o of READS) {
          const t = END + o;
          const want = referenceFeatures(
            repo,
            { events: records },
            users.map((u) => ({ user_id: u, event_timestamp: t })),
            features,
          );
          const got = await online.readFeatures({ view: spec, entityKeys: users, t });
          users.forEach((u, i) =>
            got.features.forEach((f, j) => {
              const g = got.rows[i]![j]!.value;
              const w = want[i]![f] ?? null;
              if (typeof w === 'number' && w !== 0) nonZero++;
              const same =
                typeof g === 'number' && typeof w === 'number' ? floatsEqual(g, w) : g === w;
              if (!same) expect({ run: n, u, f, o, g }).toEqual({ run: n, u, f, o, g: w });
            }),
          );
        }
      } finally {
        await online.teardown();
        await Promise.all([offline.close(), online.close()]);
      }
    }
    expect(nonZero).toBeGreaterThan(100);
  }, 120_000);
});

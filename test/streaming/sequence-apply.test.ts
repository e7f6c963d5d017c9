/**
 * The stream worker's and push's fold (`applyRecords`) for sequence features: random records in
 * random arrival orders, applied in several batches to a SQLite store, read back as the
 * reference computes them from the raw records (one semantics, whatever the arrival order).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import fc from 'fast-check';
import { floatsEqual } from '../../aggregation/index.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../core/duration.ts';
import { loadRepository } from '../../definitions/load.ts';
import { createOnlineStore } from '../../online/create-online-store.ts';
import { referenceFeatures } from '../../reference/index.ts';
import { sameStateGroups } from '../../online/view-catalog.ts';
import { applyRecords, foldRecords } from '../../streaming/apply-records.ts';
import { tempDir, tempRepo } from '../support/temp-repo.ts';

const tmp = tempDir();
const repoDir = tempRepo({
  'repo.ts': `
import { z } from 'zod';
import { batchSource, col, countWhere, entity, featureView, previous, pushSource, sessions } from 'larder';
export const user = entity({ name: 'user', joinKey: 'user_id' });
export const events = batchSource({
  name: 'events',
  schema: z.object({ id: z.string(), userId: z.string().nullable(), kind: z.string(), ip: z.string().nullable(), ts: z.number().int() }),
  timestampField: 'ts',
  idField: 'id',
});
export const pushed = pushSource({ name: 'pushed', batchSource: events });
const visits = sessions({ gap: '5m' });
export const seq = featureView({
  name: 'seq', entities: [user], source: pushed, keys: { user_id: col('userId') },
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
  },
});
`,
});
afterAll(() => {
  tmp.cleanup();
  repoDir.cleanup();
});

const NOW = Math.floor(Date.now() / HOUR_MS) * HOUR_MS - 7 * MINUTE_MS;
const G = 5 * MINUTE_MS;

const recordsArb = fc
  .array(
    fc.record({
      user: fc.constantFrom('u1', 'u2', 'u3', 'u4', 'u5', 'u6'),
      at: fc.oneof(
        { arbitrary: fc.integer({ min: -2 * HOUR_MS, max: 0 }), weight: 4 },
        { arbitrary: fc.integer({ min: -2 * DAY_MS - HOUR_MS, max: 0 }), weight: 1 },
        { arbitrary: fc.constantFrom(0, -1, -99, -100, -G, -G - 1), weight: 1 },
      ),
      id: fc.string({ unit: fc.constantFrom('a', 'B', '\u{1F600}'), minLength: 1, maxLength: 2 }),
      kind: fc.constantFrom('page_view', 'purchase', 'click', 'ignored'),
      ip: fc.option(fc.constantFrom('1.1.1.1', '2.2.2.2'), { nil: null }),
    }),
    { maxLength: 150 },
  )
  .map((rs) =>
    rs.map((r, i) => ({
      id: `${r.id}${i % 7}`,
      userId: r.user,
      kind: r.kind,
      ip: r.ip,
      // clustered per user: near-equal times, so gaps at the thresholds are common
      ts: NOW + r.at - (r.at % 3 === 0 ? (i % 3) * 50 : 0),
    })),
  );

describe('applyRecords: sequence features', () => {
  it('any arrival order and batching gives the reference values', async () => {
    const repo = await loadRepository(repoDir.dir);
    const spec = repo.featureViews.get('seq')!.spec;
    const features = repo.resolveFeatures({
      features: spec.features.map((f) => `seq:${f.name}`),
    });
    const cases = fc.sample(
      recordsArb.chain((rs) =>
        fc.tuple(
          fc.constant(rs),
          fc.shuffledSubarray(rs, { minLength: rs.length, maxLength: rs.length }),
        ),
      ),
      { seed: 14, numRuns: 12 },
    );
    let nonZero = 0;
    for (const [n, [records, arrival]] of cases.entries()) {
      const store = createOnlineStore(
        { type: 'sqlite', path: join(tmp.dir, `online-${n}.sqlite`) },
        { namespace: 'seq', views: [spec], clock: () => NOW },
      );
      await store.init();
      try {
        for (let i = 0; i < arrival.length; i += 37)
          await applyRecords(repo, store, 'pushed', arrival.slice(i, i + 37), {
            timestampField: 'ts',
            idField: 'id',
          });
        const users = ['u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'nobody'];
        const want = referenceFeatures(
          repo,
          { events: records },
          users.map((u) => ({ user_id: u, event_timestamp: NOW })),
          features,
        );
        const got = await store.readFeatures({ view: spec, entityKeys: users, t: NOW });
        users.forEach((u, i) => {
          got.features.forEach((f, j) => {
            const g = got.rows[i]![j]!.value;
            const w = want[i]![f] ?? null;
            if (typeof w === 'number' && w !== 0) nonZero++;
            if (typeof g === 'number' && typeof w === 'number')
              expect(floatsEqual(g, w), `${u} ${f}: ${g} vs ${w}`).toBe(true);
            else expect({ u, f, g }).toEqual({ u, f, g: w });
          });
        });
      } finally {
        await store.teardown();
        await store.close();
      }
    }
    expect(nonZero).toBeGreaterThan(50);
  });

  it('folds one state per group of identical session states, the one the store keeps', async () => {
    const repo = await loadRepository(repoDir.dir);
    const spec = repo.featureViews.get('seq')!.spec;
    const groups = sameStateGroups(spec);
    expect(groups.get('avg_session_1h_s')?.[0]).toBe('sessions_1h');
    expect(groups.get('current_duration_s')?.[0]).toBe('current_events');
    const [records] = fc.sample(recordsArb, { seed: 3, numRuns: 1 });
    const { tiles } = foldRecords(repo, 'pushed', records!, {
      timestampField: 'ts',
      idField: 'id',
    });
    const keys = new Set(tiles.flatMap((t) => Object.keys(t.states)));
    expect(keys).toContain('sessions_1h');
    expect(keys).toContain('current_events');
    expect(keys).not.toContain('avg_session_1h_s');
    expect(keys).not.toContain('current_duration_s');
  });
});

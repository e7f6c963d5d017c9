/**
 * openFeatureStore on SQLite + DuckDB over a small repository: materialize, online reads,
 * point-in-time exports as an Arrow table, pushes, and the errors of each.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { applyRepository } from '../../registry/apply.ts';
import { openFeatureStore, type FeatureStore } from '../../store/feature-store.ts';
import { PUSH_REPO } from '../api/serve-fixture.ts';
import { tempDir, tempRepo } from '../support/temp-repo.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const MIN = 60_000;
// Recent: the online store drops tiles whose windows ended (by the wall clock).
const T = Math.floor(Date.now() / MIN) * MIN - MIN;
const EVENTS = [
  { id: 'e1', userId: 'u1', kind: 'click', amount: 5, ts: T - 10 * MIN },
  { id: 'e2', userId: 'u1', kind: 'buy', amount: 20, ts: T - 120 * MIN },
  { id: 'e3', userId: 'u1', kind: 'click', amount: 1, ts: T - 9 * 24 * 60 * MIN },
  { id: 'e4', userId: 'u2', kind: 'click', amount: 1, ts: T - 30 * MIN },
];
const FEATURES = ['activity:clicks_1h', 'activity:spend_7d', 'activity:last_kind'];

/** A daily batch view over the events: spend of the 7 days before each snapshot. */
const BATCH = `
import { batchView, col } from 'larder';
import { events, user } from './repo.ts';
export const spend = batchView({
  name: 'spend', entities: [user], source: events,
  columns: { user_id: col('userId'), amount: col('amount') },
  window: '7d', every: '1d', ttl: '1d',
  query: 'SELECT user_id, SUM(amount) AS spend_7d_snapshot FROM source GROUP BY user_id',
  features: { spend_7d_snapshot: 'float64' },
});
`;

async function open(
  files: Record<string, string> = {},
): Promise<{ store: FeatureStore; root: string }> {
  const repo = tempRepo({ 'repo.ts': PUSH_REPO, ...files });
  cleanups.push(repo.cleanup);
  const tmp = tempDir();
  cleanups.push(tmp.cleanup);
  mkdirSync(join(tmp.dir, 'data/raw/events'), { recursive: true });
  writeFileSync(
    join(tmp.dir, 'data/raw/events/events.jsonl'),
    EVENTS.map((e) => JSON.stringify(e)).join('\n') + '\n',
  );
  const store = await openFeatureStore({
    root: tmp.dir,
    repo: repo.dir,
    config: { home: 'home', dataDir: 'data', offlineStore: { type: 'duckdb' } },
  });
  cleanups.push(() => store.close());
  return { store, root: tmp.dir };
}

const column = (res: { columns: { name: string; values: unknown[] }[] }, name: string) =>
  res.columns.find((c) => c.name === name)?.values;

describe('openFeatureStore (SQLite + DuckDB)', () => {
  it('resolves the given config against root, with the repo option winning', async () => {
    const { store, root } = await open();
    expect(store.config.home).toBe(join(root, 'home'));
    expect(store.config.onlineStore).toEqual({
      type: 'sqlite',
      path: join(root, 'home/online.sqlite'),
    });
    expect([...store.repo.featureViews.keys()]).toEqual(['activity']);
  });

  it('materializes, then reads online features; refuses to materialize before apply', async () => {
    const { store } = await open();
    await expect(store.materialize({ end: T })).rejects.toMatchObject({
      code: 'LARDER_REGISTRY_NOT_APPLIED',
    });
    await applyRepository(store.repo, store.config.home);
    const [result] = await store.materialize({ end: T });
    expect(result).toMatchObject({ view: 'activity', end: T, rejects: [] });
    const res = await store.getOnlineFeatures({
      features: FEATURES,
      entities: { user_id: ['u1', 'u2', 'u3'] },
      t: T,
    });
    expect(res.columns.map((c) => c.name)).toEqual([
      'user_id',
      'clicks_1h',
      'spend_7d',
      'last_kind',
    ]);
    expect(column(res, 'clicks_1h')).toEqual([1, 1, 0]);
    expect(column(res, 'spend_7d')).toEqual([25, 1, 0]);
    expect(column(res, 'last_kind')).toEqual(['click', 'click', null]);
    expect(res.columns[3]!.statuses).toEqual(['PRESENT', 'PRESENT', 'NOT_FOUND']);
    // One row at a time: row i of the three-row answer, its shared status and null event-time
    // lists frozen (a caller cannot change another response's).
    for (const [i, u] of ['u1', 'u2', 'u3'].entries()) {
      const one = await store.getOnlineFeatures({
        features: FEATURES,
        entities: { user_id: [u] },
        t: T,
      });
      expect(one.columns.map((c) => [c.name, c.type, c.values, c.statuses, c.eventTs])).toEqual(
        res.columns.map((c) => [c.name, c.type, [c.values[i]], [c.statuses[i]], [c.eventTs[i]]]),
      );
      for (const c of one.columns) expect(Object.isFrozen(c.statuses)).toBe(true);
      expect(() => ((one.columns[3]!.statuses as string[])[0] = 'PRESENT')).toThrow(TypeError);
    }
    expect(res.columns[3]!.statuses).toEqual(['PRESENT', 'PRESENT', 'NOT_FOUND']);
    // Incremental: from the watermark just written, nothing new.
    const [again] = await store.materialize({ end: T, incremental: true });
    expect(again).toMatchObject({ view: 'activity', end: T });
  });

  it('materializes batch views (named alone, or incrementally) and serves what the export gives', async () => {
    const { store, root } = await open({ 'batch.ts': BATCH });
    const DAY = 24 * 60 * MIN;
    writeFileSync(
      join(root, 'data/raw/events/older.jsonl'),
      [
        { id: 'b1', userId: 'u1', kind: 'buy', amount: 40, ts: T - 2 * DAY },
        { id: 'b2', userId: 'u2', kind: 'buy', amount: 2, ts: T - 3 * DAY },
      ]
        .map((e) => JSON.stringify(e))
        .join('\n') + '\n',
    );
    await applyRepository(store.repo, store.config.home);
    const D = Math.floor(T / (24 * 60 * MIN)) * 24 * 60 * MIN;
    const results = await store.materialize({ end: T, views: ['spend'] });
    expect(results).toEqual([
      expect.objectContaining({ view: 'spend', start: D, end: D, tiles: 0 }),
    ]);
    expect((await store.materialize({ end: T, incremental: true })).map((r) => r.view)).toEqual([
      'activity',
      'spend',
    ]);
    const ref = { features: ['spend:spend_7d_snapshot'] };
    const online = await store.getOnlineFeatures({
      ...ref,
      entities: { user_id: ['u1', 'u2', 'u3'] },
      t: T,
    });
    const offline = await store.getHistoricalFeatures({
      ...ref,
      entities: ['u1', 'u2', 'u3'].map((u) => ({ user_id: u, event_timestamp: T })),
    });
    const exported = Array.from(offline.getChild('spend_7d_snapshot')!);
    expect(column(online, 'spend_7d_snapshot')).toEqual(exported);
    expect(exported[0]).toBeGreaterThanOrEqual(40);
    expect(exported[2]).toBeNull();
    expect(online.columns[1]!.statuses.slice(0, 2)).toEqual(['PRESENT', 'PRESENT']);
    expect(online.columns[1]!.statuses[2]).toBe('NOT_FOUND');
  });

  it('exports point-in-time values as an Arrow table, from rows or a file', async () => {
    const { store, root } = await open();
    const rows = [
      { user_id: 'u1', event_timestamp: T },
      { user_id: 'u1', event_timestamp: T - 60 * MIN },
      { user_id: 'u2', event_timestamp: new Date(T).toISOString() },
    ];
    const table = await store.getHistoricalFeatures({ features: FEATURES, entities: rows });
    expect(table.numRows).toBe(3);
    expect(table.schema.fields.map((f) => f.name)).toEqual([
      'user_id',
      'event_timestamp',
      'clicks_1h',
      'spend_7d',
      'last_kind',
    ]);
    expect([...table.getChild('user_id')!].map(String)).toEqual(['u1', 'u1', 'u2']);
    expect([...table.getChild('clicks_1h')!].map(Number)).toEqual([1, 0, 1]);
    expect([...table.getChild('spend_7d')!].map(Number)).toEqual([25, 20, 1]);
    expect([...table.getChild('last_kind')!]).toEqual(['click', 'buy', 'click']);

    const csv = join(root, 'rows.csv');
    writeFileSync(csv, `user_id,event_timestamp\nu1,${T}\n`);
    const out = join(root, 'kept.arrow');
    const fromFile = await store.getHistoricalFeatures({
      features: ['activity:spend_7d'],
      entities: csv,
      out,
      fullFeatureNames: true,
    });
    expect(existsSync(out)).toBe(true);
    expect(fromFile.schema.fields.map((f) => f.name)).toEqual([
      'user_id',
      'event_timestamp',
      'activity__spend_7d',
    ]);
    expect([...fromFile.getChild('activity__spend_7d')!].map(Number)).toEqual([25]);
    await expect(
      store.getHistoricalFeatures({ features: FEATURES, entities: rows, out: 'x.parquet' }),
    ).rejects.toMatchObject({
      code: 'LARDER_BAD_REQUEST',
      message: 'out "x.parquet" must end in .arrow',
    });
    await expect(
      store.getHistoricalFeatures({ service: 'nope', entities: rows }),
    ).rejects.toMatchObject({ code: 'LARDER_NOT_FOUND' });
  });

  it('pushes records as POST /push does: online, offline, and a bad record refused', async () => {
    const { store, root } = await open();
    const now = Date.now();
    const pushed = await store.push('events_push', [
      { id: 'p1', userId: 'u9', kind: 'click', amount: 3, ts: now - MIN },
      { id: 'p2', userId: 'u9', kind: 'click', amount: 4, ts: now - 2 * MIN },
    ]);
    expect(pushed).toEqual({ rows: 2, views: ['activity'], file: null });
    const res = await store.getOnlineFeatures({
      features: FEATURES,
      entities: { user_id: ['u9'] },
    });
    expect(column(res, 'clicks_1h')).toEqual([2]);
    expect(column(res, 'spend_7d')).toEqual([7]);

    const offline = await store.push(
      'events_push',
      [{ id: 'p3', userId: 'u9', kind: 'buy', amount: 1, ts: now }],
      { to: 'offline' },
    );
    expect(offline.views).toEqual([]);
    expect(offline.file).toBe(
      join(root, 'data/raw/events', `push-${new Date(now).toISOString().slice(0, 10)}.jsonl`),
    );
    await expect(
      store.push('events_push', [{ id: 'p4', userId: 'u9', kind: 'click', amount: 'x', ts: now }]),
    ).rejects.toMatchObject({ code: 'LARDER_BAD_REQUEST', field: 'df.amount[0]' });
    await expect(store.push('nope', [])).rejects.toMatchObject({ code: 'LARDER_NOT_FOUND' });
  });
});

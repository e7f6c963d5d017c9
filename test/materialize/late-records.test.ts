/**
 * `materialize-incremental` and late records: a record appended (pushed `to: offline`) after a
 * run, with an event time before that run's watermark, is picked up by the next incremental run
 * through its arrival time (DuckDB + SQLite).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { alignStart } from '../../materialize/materialize.ts';
import { applyRepository } from '../../registry/apply.ts';
import { readRegistry } from '../../registry/registry-file.ts';
import { openFeatureStore } from '../../store/feature-store.ts';
import { PUSH_REPO } from '../api/serve-fixture.ts';
import { tempDir, tempRepo } from '../support/temp-repo.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const MIN = 60_000;
const DAY = 24 * 60 * MIN;
// Recent: the online store drops tiles whose windows ended (by the wall clock).
const T = Math.floor(Date.now() / MIN) * MIN - 2 * MIN;

describe('materialize-incremental: late records', () => {
  it('reloads from the earliest event time appended since the last run', async () => {
    const repo = tempRepo({ 'repo.ts': PUSH_REPO });
    cleanups.push(repo.cleanup);
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    mkdirSync(join(tmp.dir, 'data/raw/events'), { recursive: true });
    writeFileSync(
      join(tmp.dir, 'data/raw/events/events.jsonl'),
      `${JSON.stringify({ id: 'e1', userId: 'u1', kind: 'click', amount: 5, ts: T - 10 * MIN })}\n`,
    );
    const store = await openFeatureStore({
      root: tmp.dir,
      repo: repo.dir,
      config: { home: 'home', dataDir: 'data', offlineStore: { type: 'duckdb' } },
    });
    cleanups.push(() => store.close());
    await applyRepository(store.repo, store.config.home);
    const before = Date.now();
    await store.materialize({ end: T });
    const arrival = readRegistry(store.config.home)!.arrivalMarks!.activity!;
    expect(arrival).toBeGreaterThanOrEqual(before);

    const read = async (t: number) =>
      (
        await store.getOnlineFeatures({
          features: ['activity:clicks_1h', 'activity:spend_7d'],
          entities: { user_id: ['u1'] },
          t,
        })
      ).columns.map((c) => c.values[0]);
    expect(await read(T)).toEqual(['u1', 1, 5]);

    // A late record: arrives now, stamped 3 days before the watermark T (inside spend_7d, in
    // tiles before the ones an incremental run from T rewrites).
    const view = store.repo.featureViews.get('activity')!.spec;
    const late = { id: 'late', userId: 'u1', kind: 'buy', amount: 100, ts: T - 3 * DAY };
    expect(alignStart(view, T)).toBeGreaterThan(late.ts);
    await store.push('events_push', [late], { to: 'offline' });
    const [again] = await store.materialize({ end: T + MIN, incremental: true });
    expect(again!.start).toBe(alignStart(view, late.ts));
    expect(await read(T + MIN)).toEqual(['u1', 1, 105]);

    // Nothing arrived since: the next run starts at its watermark again.
    const [third] = await store.materialize({ end: T + 2 * MIN, incremental: true });
    expect(third!.start).toBe(alignStart(view, T + MIN));
    expect(await read(T + 2 * MIN)).toEqual(['u1', 1, 105]);
  });
});

/**
 * A watermark never moves backwards silently: `materialize-incremental --end T` with T before a
 * view's watermark skips the view (its watermark, arrival mark and online values unchanged) and
 * says so; `materialize --end T` (an explicit reload) moves it back to T and says so. Feature
 * views and batch views, DuckDB + SQLite, through the store and the CLI.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { applyRepository } from '../../registry/apply.ts';
import { readRegistry } from '../../registry/registry-file.ts';
import { openFeatureStore } from '../../store/feature-store.ts';
import { BASE_REPO, SPEND_BATCH_VIEW, tempDir, tempRepo } from '../support/temp-repo.ts';

const run = promisify(execFile);
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const MIN = 60_000;
const DAY = 24 * 60 * MIN;
// Recent: the online store drops tiles whose windows ended (by the wall clock).
const T = Math.floor(Date.now() / MIN) * MIN - 2 * MIN;
const MIDNIGHT = Math.floor(T / DAY) * DAY;

function project() {
  const repo = tempRepo({ 'repo.ts': BASE_REPO, 'batch.ts': SPEND_BATCH_VIEW });
  cleanups.push(repo.cleanup);
  const tmp = tempDir();
  cleanups.push(tmp.cleanup);
  mkdirSync(join(tmp.dir, 'data/raw/events'), { recursive: true });
  const ev = (id: string, amount: number, ts: number) =>
    JSON.stringify({ id, userId: 'u1', kind: 'click', amount, ts });
  // One record a day before the last midnight (in both snapshots), one before it (in the
  // latest one only), one after it (in no snapshot, in the feature view).
  writeFileSync(
    join(tmp.dir, 'data/raw/events/events.jsonl'),
    [
      ev('e1', 1, MIDNIGHT - DAY - 5 * MIN),
      ev('e2', 10, MIDNIGHT - 5 * MIN),
      ev('e3', 100, Math.max(MIDNIGHT, T - 10 * MIN)),
    ]
      .map((l) => `${l}\n`)
      .join(''),
  );
  return { repo: repo.dir, root: tmp.dir, home: join(tmp.dir, 'home') };
}

describe('materialize-incremental before the watermark', () => {
  it('skips the views already materialized past --end; materialize moves it back and says so', async () => {
    const p = project();
    const store = await openFeatureStore({
      root: p.root,
      repo: p.repo,
      config: { home: 'home', dataDir: 'data', offlineStore: { type: 'duckdb' } },
    });
    cleanups.push(() => store.close());
    await applyRepository(store.repo, store.config.home);
    const read = async (t: number) =>
      (
        await store.getOnlineFeatures({
          features: ['activity:spend_7d', 'spend:snap_spend'],
          entities: { user_id: ['u1'] },
          t,
        })
      ).columns.map((c) => c.values[0]);

    await store.materialize({ end: T, incremental: true });
    const first = readRegistry(p.home)!;
    expect(first.watermarks).toEqual({ activity: T, spend: MIDNIGHT });
    expect(await read(T)).toEqual(['u1', 111, 11]);

    // Two days back: both views are past it; nothing runs, nothing moves.
    const behind: { view: string; watermark: number }[] = [];
    const r = await store.materialize({
      end: T - 2 * DAY,
      incremental: true,
      onBehindWatermark: (b) => behind.push(b),
    });
    expect(r).toEqual([]);
    expect(behind).toEqual([
      { view: 'activity', watermark: T },
      { view: 'spend', watermark: MIDNIGHT },
    ]);
    expect(readRegistry(p.home)!.watermarks).toEqual(first.watermarks);
    expect(readRegistry(p.home)!.arrivalMarks).toEqual(first.arrivalMarks);
    // The batch view still holds the latest snapshot, not the one two days back.
    expect(await read(T)).toEqual(['u1', 111, 11]);

    // At the watermark itself: a re-run (it picks up late records), not a skip.
    behind.length = 0;
    const r2 = await store.materialize({
      end: T,
      incremental: true,
      onBehindWatermark: (b) => behind.push(b),
    });
    expect(r2.map((x) => x.view)).toEqual(['activity', 'spend']);
    expect(behind).toEqual([]);

    // An explicit reload to an earlier time moves the watermarks back, and reports it.
    const r3 = await store.materialize({
      end: T - 2 * DAY,
      onBehindWatermark: (b) => behind.push(b),
    });
    expect(r3.map((x) => x.view)).toEqual(['activity', 'spend']);
    expect(behind).toEqual([
      { view: 'activity', watermark: T },
      { view: 'spend', watermark: MIDNIGHT },
    ]);
    expect(readRegistry(p.home)!.watermarks).toEqual({
      activity: T - 2 * DAY,
      spend: MIDNIGHT - 2 * DAY,
    });
  });

  it('CLI: one line per skipped view, exit 0, and the JSON summary lists them', async () => {
    const p = project();
    const env = { ...process.env, LARDER_HOME: p.home, LARDER_DATA_DIR: join(p.root, 'data') };
    const larder = (...args: string[]) =>
      run('node', ['bin/larder.js', '--repo', p.repo, ...args], { env });
    await larder('apply');
    await larder('materialize-incremental', '--end', String(T), '--views', 'activity');
    const back = new Date(T - DAY).toISOString();
    const text = await larder('materialize-incremental', '--end', back);
    // activity is skipped; spend, never materialized, runs.
    expect(text.stdout).toContain(
      `activity: already materialized to ${new Date(T).toISOString()} (its watermark), after --end ${back}: skipped\n`,
    );
    expect(text.stdout).toMatch(/\nspend +/);
    expect(readRegistry(p.home)!.watermarks).toEqual({ activity: T, spend: MIDNIGHT - DAY });
    const json = JSON.parse(
      (await larder('materialize-incremental', '--end', back, '--json')).stdout,
    ) as { views: { view: string }[]; skipped: unknown[] };
    expect(json.views.map((v) => v.view)).toEqual(['spend']);
    expect(json.skipped).toEqual([{ view: 'activity', watermark: T }]);
    // Only skipped views: no table, exit 0.
    const only = await larder('materialize-incremental', '--end', back, '--views', 'activity');
    expect(only.stdout).toBe(
      `activity: already materialized to ${new Date(T).toISOString()} (its watermark), after --end ${back}: skipped\n`,
    );
    // materialize moves it back, and says so.
    const reload = await larder('materialize', '--end', back, '--views', 'activity');
    expect(reload.stdout).toContain(
      `activity: watermark moved back from ${new Date(T).toISOString()} to --end ${back}\n`,
    );
    expect(readRegistry(p.home)!.watermarks.activity).toBe(T - DAY);
  }, 120_000); // four `larder` processes: ~10 s quiet, more than 30 s under a load of ~20
});

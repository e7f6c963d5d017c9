/**
 * Consistency between engines: materialize a generated history into an online store, then
 * read every stored feature of every view at several times ≥ the materialization end
 * and compare, value for value, with the offline point-in-time export at the same times. The
 * batch views of `batch_v1` too: their latest snapshot at T2 is read equal to the export while
 * it is the snapshot that applies, and as null after (a newer snapshot applies then).
 */
import { encodeEntityKey } from '../../aggregation/tiles.ts';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { genData } from '../../examples/ecommerce/datagen/index.ts';
import { materialize } from '../../materialize/materialize.ts';
import { materializeBatchViews } from '../../materialize/materialize-batch.ts';
import { onlineViewSpecs } from '../../definitions/batch/serving-view.ts';
import { snapshotAt } from '../../definitions/batch/batch-view-spec.ts';
import { DuckDBOfflineStore } from '../../offline/duckdb/duckdb-offline-store.ts';
import type { OnlineStore, OnlineStoreOptions } from '../../online/online-store.ts';
import { floatsEqual } from '../../aggregation/index.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../core/duration.ts';
import { loadRepository } from '../../definitions/load.ts';
import { resolveConfig, type OnlineStoreConfig } from '../../config/config.ts';
import { historyUpTo } from '../support/history.ts';

export type StoreFactory = (options: OnlineStoreOptions) => OnlineStore;

/** Reads after T2: at once, within the newest hop, past hour, day and week boundaries, near TTLs. */
const READ_OFFSETS = [
  0,
  1,
  59_999,
  5 * MINUTE_MS + 17,
  HOUR_MS + 1,
  25 * HOUR_MS,
  7 * DAY_MS + 1,
  8 * DAY_MS,
  31 * DAY_MS,
];

export async function checkConsistency(
  factory: StoreFactory,
  seed: number,
  /** The first materialization on 2 worker threads, each opening this online store itself. */
  workers?: { onlineStore: OnlineStoreConfig },
): Promise<{ compared: number }> {
  const repo = await loadRepository('examples/ecommerce/features');
  const dir = mkdtempSync(join(tmpdir(), 'larder-consistency-'));
  // T2 is just ahead of now (off any hop boundary): online stores drop what reads at times ≥ now
  // no longer need, on the real clock, so every read of the check is at a time ≥ now. The
  // generated history runs two days past T2, so later events exist but must not count. T2 stays
  // within `ingest.maxFutureSkew` (5 min) of now: the materialization and the export validate
  // the raw files at different times, and an event after now + 5 min when the first does but
  // not when the second does was left out of the online state only (a flaky failure on the
  // newest events, seed 11's u00035, under load).
  const t2 = Math.ceil(Date.now() / 60_000) * 60_000 + 3 * MINUTE_MS + 1234;
  const end = t2 + 2 * DAY_MS + 3 * HOUR_MS;
  await genData({
    users: 40,
    products: 30,
    days: 12,
    events: 6_000,
    seed,
    end,
    outDir: dir,
    format: 'jsonl',
  });
  const offline = new DuckDBOfflineStore({ type: 'duckdb', dataDir: dir, home: dir });
  const views = onlineViewSpecs(repo);
  const namespace = `test-${randomUUID()}`;
  const online = factory({ namespace, views });
  await Promise.all([offline.init(), online.init()]);
  const config = workers
    ? resolveConfig(
        {
          repo: 'examples/ecommerce/features',
          home: dir,
          dataDir: dir,
          namespace,
          onlineStore: workers.onlineStore,
        },
        process.cwd(),
        {},
      )
    : null;
  let compared = 0;
  /** Batch view values read non-null (each equal to the export's). */
  let batchValues = 0;
  try {
    const finals: { total: number | null; rows: number }[] = [];
    // A first run (the raw files validated on the way), on worker threads when asked.
    await materialize({
      repo,
      offline,
      online,
      end: t2,
      ...(config ? { workers: { count: 2, repo: config.repo, config } } : {}),
      onProgress: (p) =>
        p.done && finals.push({ total: p.total, rows: p.tiles + p.skipped + p.lifetime }),
    });
    // Progress knows each view's total up front (ETA), and the total is what was computed:
    // written, or left out because no feature can read it at a time ≥ the end.
    expect(finals).toHaveLength(repo.featureViews.size);
    for (const f of finals) expect(f.total).toBe(f.rows);
    // Re-running the same range (or resuming after a crash) must not double count.
    await materialize({ repo, offline, online, end: t2, batchSize: 777 });
    const batchViews = [...repo.batchViews.keys()];
    for (const batchSize of [10_000, 7])
      await materializeBatchViews({ repo, offline, online, views: batchViews, end: t2, batchSize });
    const users = Array.from({ length: 40 }, (_, i) => `u${String(i).padStart(5, '0')}`).concat(
      'u-never',
    );
    const products = Array.from({ length: 30 }, (_, i) => `p${String(i).padStart(5, '0')}`).concat(
      'p-never',
    );
    const rows = READ_OFFSETS.flatMap((o) =>
      users.map((u, i) => ({
        user_id: u,
        product_id: products[i % products.length],
        event_timestamp: t2 + o,
      })),
    );
    // The export must not see events after T2 either: cut the offline history at T2 too.
    const cut = new DuckDBOfflineStore({
      type: 'duckdb',
      dataDir: await historyUpTo(dir, t2),
      home: dir,
    });
    await cut.init();
    const exported = await cut.exportPointInTime({
      repo,
      // Every stored feature of every feature view (recommendation_v1's, v2's and the sequence
      // views'), and the batch views of batch_v1.
      features: [
        ...repo.resolveFeatures({
          features: views
            .filter((v) => !repo.batchViews.has(v.name))
            .flatMap((v) => v.features.map((f) => `${v.name}:${f.name}`)),
        }),
        ...repo.resolveFeatures({ service: 'batch_v1' }),
      ],
      entities: { type: 'rows', rows },
      out: { type: 'memory' },
      fullFeatureNames: true,
    });
    await cut.close();
    for (const view of views) {
      const keys = view.entities.map((e) => (e === 'user' ? 'user_id' : 'product_id'));
      const batch = repo.batchViews.get(view.name)?.spec;
      for (let r = 0; r < rows.length; r++) {
        const row = rows[r]!;
        // A batch view's stored snapshot serves the reads it applies to only.
        const stale =
          batch !== undefined &&
          snapshotAt(batch.schedule, row.event_timestamp) !== snapshotAt(batch.schedule, t2);
        const [res] = await online.readMany([
          {
            view,
            entityKeys: [encodeEntityKey(keys.map((k) => row[k] as string))],
            t: row.event_timestamp,
          },
        ]);
        view.features.forEach((f, j) => {
          const got = res!.rows[0]![j]!;
          const want = stale ? null : (exported.data![r]![`${view.name}__${f.name}`] ?? null);
          const value = got.value;
          const same =
            typeof want === 'number' && typeof value === 'number'
              ? floatsEqual(want, value)
              : Array.isArray(want) && Array.isArray(value)
                ? JSON.stringify(want) === JSON.stringify(value)
                : want === value;
          if (!same) {
            expect.fail(
              `${view.name}:${f.name} for ${keys.map((k) => row[k]).join('×')} at T2+${row.event_timestamp - t2}ms: online ${JSON.stringify(got)} vs offline ${JSON.stringify(want)}`,
            );
          }
          compared++;
          if (batch && value !== null) batchValues++;
        });
      }
    }
    // Both views have entities in the snapshot that applies at T2.
    expect(batchValues).toBeGreaterThan(100);
  } finally {
    await online.teardown();
    await Promise.all([offline.close(), online.close()]);
    rmSync(dir, { recursive: true, force: true });
  }
  return { compared };
}

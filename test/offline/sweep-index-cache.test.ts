/**
 * The sweep's on-disk index cache (offline/duckdb/sweep/index-cache.ts): a second export over
 * the same data reads the cached index (no file is rewritten) and returns the same values (also
 * when it sweeps a heavy pass in two halves, which only a cached index allows); a
 * truncated cache file is rebuilt; changed source data gets a new entry (the old one is deleted)
 * and fresh values; an export needing a feature the entry lacks adds just that column. String
 * values are kept as one-byte codes and `last(timestamp)` as a marker over the event times;
 * entries of an older layout version are deleted.
 */
import { existsSync, mkdirSync, readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { genData } from '../../examples/ecommerce/datagen/index.ts';
import { DuckDBOfflineStore } from '../../offline/duckdb/duckdb-offline-store.ts';
import type { ExportSummary } from '../../offline/offline-store.ts';
import { loadRepository } from '../../definitions/load.ts';
import type { Repository } from '../../definitions/repository.ts';
import { tempDir } from '../support/temp-repo.ts';

const END = Date.UTC(2024, 5, 1);
let tmp: { dir: string; cleanup: () => void };
let repo: Repository;

let home = 'home';
const cacheRoot = (): string => join(tmp.dir, home, 'offline-cache/sweep-v3');
const entries = (): string[] => readdirSync(cacheRoot()).sort();
/** Every cache file with its mtime. */
function snapshot(): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of entries())
    for (const f of readdirSync(join(cacheRoot(), e)))
      out.set(`${e}/${f}`, statSync(join(cacheRoot(), e, f)).mtimeMs);
  return out;
}

async function exportRows(
  features = repo.resolveFeatures({ service: 'recommendation_v1' }),
  sweepThreads?: number,
): Promise<ExportSummary> {
  const store = new DuckDBOfflineStore({
    type: 'duckdb',
    dataDir: join(tmp.dir, 'data'),
    home: join(tmp.dir, home),
    memoryLimit: '1GB',
    ...(sweepThreads ? { sweepThreads } : {}),
  });
  try {
    const rows = Array.from({ length: 300 }, (_, i) => ({
      user_id: `u${String(i % 40).padStart(5, '0')}`,
      product_id: `p${String(i % 25).padStart(5, '0')}`,
      event_timestamp: END - (i % 30) * 86_400_000 + i * 1_000,
    }));
    return await store.exportPointInTime({
      repo,
      features,
      entities: { type: 'rows', rows },
      out: { type: 'memory' },
    });
  } finally {
    await store.close();
  }
}

beforeAll(async () => {
  tmp = tempDir();
  repo = await loadRepository('examples/ecommerce/features');
  await genData({
    users: 40,
    products: 25,
    days: 30,
    events: 20_000,
    seed: 3,
    end: END,
    outDir: join(tmp.dir, 'data'),
    format: 'jsonl',
  });
});

afterAll(() => tmp.cleanup());

describe('sweep index cache', () => {
  it('reuses, repairs and replaces its entries', async () => {
    const stale = join(tmp.dir, home, 'offline-cache/sweep-v1/old-entry');
    mkdirSync(stale, { recursive: true });
    const first = await exportRows();
    expect(existsSync(dirname(stale))).toBe(false);
    expect(first.rows).toBe(300);
    // One entry per pass: user events by user, user events by product, transactions by user.
    expect(entries()).toHaveLength(3);
    const before = snapshot();

    const second = await exportRows();
    expect(second.data).toEqual(first.data);
    expect(snapshot()).toEqual(before);

    // last_platform and category as byte codes, last_event_ts as the event times themselves.
    const names = [...before.keys()];
    expect(names.filter((k) => k.endsWith('.u8')).length).toBeGreaterThanOrEqual(2);
    expect(names.filter((k) => k.endsWith('.is-ts'))).toHaveLength(1);
    const codes = names.find((k) => k.endsWith('.u8'))!;
    truncateSync(join(cacheRoot(), codes), 3);
    expect((await exportRows()).data).toEqual(first.data);
    expect(statSync(join(cacheRoot(), codes)).size).toBeGreaterThan(3);

    // A truncated file is detected and rebuilt, with the same values.
    const ts = [...before.keys()].find((k) => k.endsWith('p0.ts'))!;
    truncateSync(join(cacheRoot(), ts), 8);
    const repaired = await exportRows();
    expect(repaired.data).toEqual(first.data);
    expect(statSync(join(cacheRoot(), ts)).size).toBeGreaterThan(8);

    // New data: new entries replace the old ones, and the values follow the data.
    const file = join(tmp.dir, 'data/raw/transactions/part-00000.jsonl');
    writeFileSync(file, '');
    const fresh = await exportRows();
    expect(entries()).toHaveLength(3);
    expect(entries()).not.toEqual(
      [...new Set([...before.keys()].map((k) => k.split('/')[0]))].sort(),
    );
    expect(
      fresh.data!.every((r) => r.purchases_30d === 0 && r.preferred_category_30d === null),
    ).toBe(true);
    expect(first.data!.some((r) => (r.purchases_30d as number) > 0)).toBe(true);
  }, 60_000);

  it('adds a column a later export needs to the existing entry', async () => {
    const one = repo.resolveFeatures({ features: ['user_activity:clicks_1h'] });
    const all = repo.resolveFeatures({
      features: ['user_activity:clicks_1h', 'user_activity:page_views_7d'],
    });
    home = 'home-2';
    const a = await exportRows(one);
    const files = snapshot();
    const b = await exportRows(all);
    const added = [...snapshot().keys()].filter((k) => !files.has(k));
    expect(added.length).toBe(1); // the page_view flags of partition 0
    expect(b.data!.map((r) => r.clicks_1h)).toEqual(a.data!.map((r) => r.clicks_1h));
  }, 60_000);

  it('sweeps a cached pass much heavier than the others in two halves, with the same values', async () => {
    // recommendation_v2's user pass (lists, distinct counts, sessions) outweighs the others:
    // once its index is cached, two workers sweep half of its features each
    // (test/offline/sweep-lanes.test.ts: the split at this data's shape).
    const features = repo.resolveFeatures({ service: 'recommendation_v2' });
    home = 'home-3';
    const whole = await exportRows(features, 2);
    const halves = await exportRows(features, 2);
    expect(halves.data).toEqual(whole.data);
    expect(whole.data!.some((r) => (r.recently_viewed_products as unknown[]).length > 0)).toBe(
      true,
    );
    expect(whole.data!.some((r) => (r.session_count_7d as number) > 0)).toBe(true);
  }, 60_000);
});

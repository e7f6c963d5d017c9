/**
 * The sweep's index build scans each pass's source once for its dictionaries
 * (offline/duckdb/sweep/build-pass-index.ts `planPass`): the key dictionary and the dictionaries
 * of the string inputs come from one `GROUPING SETS` aggregation; only a mode feature's items
 * (rows of their own) get a scan of their own. The export's values equal the SQL engine's.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { genData } from '../../examples/ecommerce/datagen/index.ts';
import { DuckDBOfflineStore } from '../../offline/duckdb/duckdb-offline-store.ts';
import { DuckDBClient } from '../../offline/local/duckdb-client.ts';
import type { ExportSummary } from '../../offline/offline-store.ts';
import { loadRepository } from '../../definitions/load.ts';
import type { Repository } from '../../definitions/repository.ts';
import { tempDir } from '../support/temp-repo.ts';

const END = Date.UTC(2024, 5, 1);
let tmp: { dir: string; cleanup: () => void };
let repo: Repository;

/** Runs `fn`, recording every statement that reads a source view (`src_<n>`). */
async function sourceReads<T>(fn: () => Promise<T>): Promise<{ result: T; reads: string[] }> {
  const reads: string[] = [];
  const proto = DuckDBClient.prototype as unknown as Record<
    'run' | 'all' | 'streamRaw',
    (this: DuckDBClient, sql: string) => unknown
  >;
  const saved = { run: proto.run, all: proto.all, streamRaw: proto.streamRaw };
  for (const m of ['run', 'all', 'streamRaw'] as const)
    proto[m] = function (this: DuckDBClient, sql: string) {
      if (/\bsrc_\d+\b/.test(sql) && !/^(CREATE TEMP VIEW|DROP VIEW)/.test(sql)) reads.push(sql);
      return saved[m].call(this, sql);
    };
  try {
    return { result: await fn(), reads };
  } finally {
    Object.assign(proto, saved);
  }
}

async function exportRows(engine: 'sweep' | 'sql', home: string): Promise<ExportSummary> {
  const store = new DuckDBOfflineStore({
    type: 'duckdb',
    dataDir: join(tmp.dir, 'data'),
    home: join(tmp.dir, home),
    memoryLimit: '1GB',
    engine,
  });
  try {
    const rows = Array.from({ length: 200 }, (_, i) => ({
      user_id: `u${String(i % 30).padStart(5, '0')}`,
      product_id: `p${String(i % 20).padStart(5, '0')}`,
      event_timestamp: END - (i % 30) * 86_400_000 + i * 1_000,
    }));
    return await store.exportPointInTime({
      repo,
      features: repo.resolveFeatures({ service: 'recommendation_v1' }),
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
    users: 30,
    products: 20,
    days: 30,
    events: 5_000,
    seed: 5,
    end: END,
    outDir: join(tmp.dir, 'data'),
    format: 'jsonl',
  });
});

afterAll(() => tmp.cleanup());

describe('sweep index build', () => {
  it('reads each pass’s dictionaries in one scan, with the SQL engine’s values', async () => {
    const { result: swept, reads } = await sourceReads(() => exportRows('sweep', 'home-sweep'));
    // Index queries (sorted by key code and time), one per pass and partition, and mode items.
    const index = reads.filter((s) => / ORDER BY \w+\.__code, \w+\.__ts$/.test(s));
    const dicts = reads.filter((s) => !index.includes(s));
    // recommendation_v1: user events by user (string input: platform), user events by product
    // (string input: category), transactions by user (a mode over the order items' categories).
    expect(index).toHaveLength(4); // three passes, one partition each, and the mode's items
    expect(dicts.filter((s) => s.includes('GROUPING SETS'))).toHaveLength(2);
    expect(dicts.filter((s) => s.startsWith('SELECT DISTINCT'))).toHaveLength(1); // mode items
    expect(dicts).toHaveLength(4); // + the transactions pass's keys (no string input)

    const sql = await exportRows('sql', 'home-sql');
    expect(swept.rows).toBe(200);
    expect(swept.data).toEqual(sql.data);
    expect(swept.data!.some((r) => r.preferred_category_30d !== null)).toBe(true);
  }, 60_000);
});

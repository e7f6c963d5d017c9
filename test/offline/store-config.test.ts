/**
 * The DuckDB store as `larder.config.ts` and the environment configure it, through
 * `resolveConfig` and `createOfflineStore` as the CLI does: store options set in the file take
 * effect (`cacheJsonl`, `indexCache`), and the diagnostics the config loader reads from the
 * environment reach the store (`LARDER_TRACE_SQL`, `LARDER_TRACE_SQL_FULL`, `SWEEP_TRACE`).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { resolveConfig, type LarderConfigInput } from '../../config/config.ts';
import { loadRepository } from '../../definitions/load.ts';
import type { Repository } from '../../definitions/repository.ts';
import { genData } from '../../examples/ecommerce/datagen/index.ts';
import { createOfflineStore } from '../../offline/create-offline-store.ts';
import { DuckDBClient } from '../../offline/local/duckdb-client.ts';
import { tempDir } from '../support/temp-repo.ts';

const END = Date.UTC(2024, 5, 1);
let tmp: { dir: string; cleanup: () => void };
let repo: Repository;

beforeAll(async () => {
  tmp = tempDir();
  repo = await loadRepository('examples/ecommerce/features');
  await genData({
    users: 10,
    products: 5,
    days: 3,
    events: 2_000,
    seed: 5,
    end: END,
    outDir: join(tmp.dir, 'data'),
    format: 'jsonl',
  });
});
afterAll(() => tmp?.cleanup());
afterEach(() => vi.restoreAllMocks());

/** Captures what is written to stderr (process.stderr.write and console.error). */
function captureStderr(): () => string {
  let text = '';
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
    text += String(s);
    return true;
  });
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => {
    text += `${a.join(' ')}\n`;
  });
  return () => text;
}

/** Exports one feature for a few rows with the store `file` and `env` configure. */
async function exportWith(
  home: string,
  file: LarderConfigInput,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const config = resolveConfig({ dataDir: 'data', home, ...file }, tmp.dir, env);
  const store = createOfflineStore(config);
  try {
    const r = await store.exportPointInTime({
      repo,
      features: repo.resolveFeatures({ features: ['user_activity:page_views_1h'] }),
      entities: {
        type: 'rows',
        rows: [0, 1, 2].map((i) => ({
          user_id: `u0000${i}`,
          event_timestamp: END - i * 3_600_000,
        })),
      },
      out: { type: 'memory' },
    });
    return r.rows;
  } finally {
    await store.close();
  }
}

describe('the DuckDB store configured by larder.config.ts and the environment', () => {
  it('cacheJsonl: false and indexCache: false leave no offline cache', async () => {
    const off = { type: 'duckdb', cacheJsonl: false, indexCache: false, sweepThreads: 1 } as const;
    expect(await exportWith('home-off', { offlineStore: off }, {})).toBe(3);
    const cache = join(tmp.dir, 'home-off', 'offline-cache');
    const files = existsSync(cache) ? readdirSync(cache) : [];
    expect(files.filter((f) => f.endsWith('.parquet') || f.startsWith('sweep-v'))).toEqual([]);

    const defaults = { offlineStore: { type: 'duckdb', sweepThreads: 1 } } as const;
    expect(await exportWith('home-on', defaults, {})).toBe(3);
    const on = readdirSync(join(tmp.dir, 'home-on', 'offline-cache'));
    expect(on.some((f) => f.endsWith('.parquet'))).toBe(true);
    expect(on).toContain('sweep-v3');
  });

  it('LARDER_TRACE_SQL=1 and SWEEP_TRACE print timings; unset, nothing', async () => {
    const offlineStore = { type: 'duckdb', indexCache: false, sweepThreads: 1 } as const;
    let stderr = captureStderr();
    await exportWith('home-quiet', { offlineStore }, {});
    expect(stderr()).not.toMatch(/\[duckdb\]|\[t \d+\]/);
    vi.restoreAllMocks();

    stderr = captureStderr();
    await exportWith('home-trace', { offlineStore }, { LARDER_TRACE_SQL: '1', SWEEP_TRACE: '1' });
    expect(stderr()).toMatch(/^\[duckdb\] \d+ ms {2}SET TimeZone = 'UTC'$/m);
    expect(stderr()).toMatch(/^\[duckdb\] \d+ ms {2}\(\d+ rows streamed\) /m);
    expect(stderr()).toMatch(/^\[t \d+\] job 0\/0 open$/m);
  });

  it('LARDER_TRACE_SQL_FULL=1 prints whole statements, else their first 160 characters', async () => {
    const sql = `SELECT 1 AS a,\n  ${Array.from({ length: 40 }, (_, i) => `${i} AS c${i}`).join(', ')}`;
    for (const [trace, want] of [
      ['statements', sql.slice(0, 160).replace(/\s+/g, ' ')],
      ['full', sql],
    ] as const) {
      const stderr = captureStderr();
      const db = await DuckDBClient.open({}, trace);
      await db.run(sql);
      db.close();
      vi.restoreAllMocks();
      expect(stderr()).toMatch(/^\[duckdb\] \d+ ms {2}/);
      expect(stderr().replace(/^\[duckdb\] \d+ ms {2}/, '')).toBe(`${want}\n`);
    }
    const config = (env: NodeJS.ProcessEnv) => resolveConfig({}, tmp.dir, env).trace.sql;
    expect(config({ LARDER_TRACE_SQL: '1', LARDER_TRACE_SQL_FULL: '1' })).toBe('full');
  });
});

/**
 * The sweep engine writes a Parquet export itself (DuckDB's entity columns plus feature columns
 * appended from typed arrays); the SQL engine lets DuckDB write the whole file. The two files
 * must be interchangeable: same columns, same types, same values (floats within the
 * aggregation library's tolerance), same row order — for the full `recommendation_v1` service
 * over generated data (nulls, strings, booleans, on-demand features, several row groups). With
 * `compactParquet` the sweep engine's file is rewritten by DuckDB with zstd, content unchanged.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import { genData } from '../../examples/ecommerce/datagen/index.ts';
import { DuckDBOfflineStore } from '../../offline/duckdb/duckdb-offline-store.ts';
import { floatsEqual } from '../../aggregation/index.ts';
import { DAY_MS } from '../../core/duration.ts';
import { loadRepository } from '../../definitions/load.ts';

const dir = mkdtempSync(join(tmpdir(), 'larder-engines-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Parquet export: sweep engine vs SQL engine', () => {
  it('writes the same columns, types, values and row order', async () => {
    const end = Date.UTC(2026, 2, 1);
    await genData({
      users: 80,
      products: 50,
      days: 5,
      events: 30_000,
      seed: 9,
      end,
      outDir: dir,
      format: 'jsonl',
    });
    const repo = await loadRepository('examples/ecommerce/features');
    const features = repo.resolveFeatures({ service: 'recommendation_v1' });
    const rows = Array.from({ length: 150_000 }, (_, i) => ({
      // Some users and products never seen (null features), times across the whole span.
      user_id: `u${String(i % 97).padStart(5, '0')}`,
      product_id: `p${String((i * 13) % 61).padStart(5, '0')}`,
      event_timestamp: end - 6 * DAY_MS + ((i * 7919) % (6 * DAY_MS)),
      label: i % 3 === 0 ? 1 : 0,
    }));
    const files: Record<string, string> = {};
    const variants = {
      sweep: { engine: 'sweep' },
      sql: { engine: 'sql' },
      compact: { engine: 'sweep', compactParquet: true },
    } as const;
    for (const [name, options] of Object.entries(variants)) {
      const store = new DuckDBOfflineStore({ type: 'duckdb', dataDir: dir, home: dir, ...options });
      await store.init();
      files[name] = join(dir, `${name}.parquet`);
      await store.exportPointInTime({
        repo,
        features,
        entities: { type: 'rows', rows },
        out: { type: 'file', path: files[name] },
      });
      await store.close();
    }
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    const describe = async (path: string): Promise<unknown[]> =>
      (await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${path}')`))
        .getRowObjectsJS()
        .map((r) => [r.column_name, r.column_type]);
    const types = await describe(files.sweep!);
    expect(types).toEqual(await describe(files.sql!));
    expect(types.map((t) => (t as string[])[0])).toEqual([
      'user_id',
      'product_id',
      'event_timestamp',
      'label',
      ...features.map((f) => f.feature),
    ]);
    const read = async (path: string): Promise<unknown[][]> =>
      (await conn.runAndReadAll(`SELECT * FROM read_parquet('${path}')`)).getRowsJS();
    const [a, b] = [await read(files.sweep!), await read(files.sql!)];
    // compactParquet: the same file's content, rewritten by DuckDB with zstd.
    expect(await describe(files.compact!)).toEqual(types);
    expect(await read(files.compact!)).toEqual(a);
    const codecs = async (path: string): Promise<string[]> =>
      (
        await conn.runAndReadAll(
          `SELECT DISTINCT compression FROM parquet_metadata('${path}') WHERE path_in_schema = 'page_views_1h'`,
        )
      )
        .getRowObjectsJS()
        .map((r) => String(r.compression));
    expect(await codecs(files.sweep!)).toEqual(['UNCOMPRESSED']);
    expect(await codecs(files.compact!)).toEqual(['ZSTD']);
    conn.closeSync();
    db.closeSync();
    expect(a).toHaveLength(rows.length);
    expect(b).toHaveLength(rows.length);
    const same = (x: unknown, y: unknown): boolean =>
      typeof x === 'number' && typeof y === 'number' ? floatsEqual(x, y) : x === y;
    const diff: unknown[] = [];
    for (let i = 0; i < a.length && diff.length < 5; i++)
      a[i]!.forEach((v, c) => {
        if (!same(v, b[i]![c])) diff.push({ row: i, column: types[c], sweep: v, sql: b[i]![c] });
      });
    expect(diff).toEqual([]);
    // Nulls and every value kind are exercised, not just zeros.
    const nulls = types.map((_, c) => a.filter((r) => r[c] === null).length);
    expect(nulls.some((n) => n > 0)).toBe(true);
    expect(new Set(a.map((r) => typeof r[types.length - 2])).has('boolean')).toBe(true);
  }, 120_000);
});

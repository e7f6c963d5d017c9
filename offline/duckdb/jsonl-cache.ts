/**
 * A Parquet cache of validated JSON Lines files. Validating JSON Lines record by record in SQL
 * (`read-source.ts`) is the slow part of an export (~17 µs a line on two cores); its result
 * depends only on the file's bytes and the source schema. So each file is validated once into
 * `<home>/offline-cache/<key>.parquet` holding every top-level field (typed), `__file` and
 * `__reason`, and later reads scan that Parquet instead. The key hashes the file's absolute
 * path, size, mtime and the schema: editing or replacing a file, or changing the schema,
 * invalidates its entry. Entries are written to a temp name and renamed, so a crash never
 * leaves a half-written entry behind.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { RecordType } from '../../definitions/record-schema.ts';
import type { DuckDBClient } from '../local/duckdb-client.ts';
import { sqlString } from '../local/duckdb-client.ts';
import { readSourceSql } from './sql/read-source.ts';

/** Bump when the cached layout or the validation rules change. */
const CACHE_VERSION = 2;

/** The cache entry of `file` for `schema` (path only; it may not exist yet). */
export function cachePath(cacheDir: string, schema: RecordType, file: string): string {
  const abs = resolve(file);
  const st = statSync(abs);
  const key = createHash('sha256')
    .update(JSON.stringify([CACHE_VERSION, abs, st.size, st.mtimeMs, schema]))
    .digest('hex')
    .slice(0, 32);
  return join(cacheDir, `${key}.parquet`);
}

/**
 * The Parquet entries for `files` (validating and writing the missing ones first), in the
 * same order.
 */
export async function cachedJsonl(
  client: DuckDBClient,
  cacheDir: string,
  schema: RecordType,
  files: readonly string[],
): Promise<string[]> {
  mkdirSync(cacheDir, { recursive: true });
  const out: string[] = [];
  const all = Object.keys(schema.fields);
  for (const file of files) {
    const path = cachePath(cacheDir, schema, file);
    if (!existsSync(path)) {
      const tmp = `${path}.${process.pid}.tmp`;
      try {
        const sql = readSourceSql(schema, all, { jsonl: [file], parquet: [] });
        await client.run(
          `COPY (SELECT * EXCLUDE (__line) FROM (${sql})) TO ${sqlString(tmp)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)`,
        );
        renameSync(tmp, path);
      } finally {
        rmSync(tmp, { force: true });
      }
    }
    out.push(path);
  }
  return out;
}

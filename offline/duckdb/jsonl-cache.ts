/**
 * A Parquet cache of validated JSON Lines files. Validating JSON Lines (`read-source.ts`: typed
 * by DuckDB in one parse, record-level rules only for the lines it cannot type exactly) costs
 * ~2.5 µs of CPU a 420-byte line, ~2 µs more to write it here (the record-level rules on every
 * line: ~15 µs in all); it is the costly part of a first export, and its result depends only
 * on the file's bytes and the source schema. So each file is validated once into
 * `<home>/offline-cache/<key>.parquet` holding every top-level field (typed), `__file` and
 * `__reason`, and later reads scan that Parquet instead. The key hashes the file's absolute
 * path, size, mtime and the schema: editing or replacing a file, or changing the schema,
 * invalidates its entry. Entries are written to a temp name and renamed, so a crash never
 * leaves a half-written entry behind.
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import type { RecordType } from '../../definitions/record-schema.ts';
import type { ValidationProgress } from '../offline-store.ts';
import type { DuckDBClient } from '../local/duckdb-client.ts';
import { sqlString } from '../local/duckdb-client.ts';
import { readSourceSql } from './sql/read-source.ts';
import { rewriteJsonl } from './jsonl-rewrite.ts';

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

/** How often a running validation reports its progress. */
const PROGRESS_INTERVAL_MS = 250;

/** Lines in a file, estimated from its first MiB (exact when that is the whole file). */
function estimateLines(file: string, size: number): number {
  if (size === 0) return 0;
  const buf = Buffer.alloc(Math.min(size, 1 << 20));
  const fd = openSync(file, 'r');
  try {
    const n = readSync(fd, buf, 0, buf.length, 0);
    let lines = 0;
    for (let i = buf.indexOf(10); i !== -1 && i < n; i = buf.indexOf(10, i + 1)) lines++;
    if (n >= size) return lines + (buf[n - 1] === 10 ? 0 : 1);
    return Math.max(1, Math.round((lines / n) * size));
  } finally {
    closeSync(fd);
  }
}

/**
 * The Parquet entries for `files` (validating and writing the missing ones first), in the
 * same order. `onProgress` follows the validation of the missing ones: rows estimated from
 * the files' sizes and DuckDB's progress through each, counted as each file is done.
 */
export async function cachedJsonl(
  client: DuckDBClient,
  cacheDir: string,
  schema: RecordType,
  files: readonly string[],
  onProgress?: (p: ValidationProgress) => void,
): Promise<string[]> {
  mkdirSync(cacheDir, { recursive: true });
  const all = Object.keys(schema.fields);
  const paths = files.map((file) => cachePath(cacheDir, schema, file));
  const missing = files.flatMap((file, i) => (existsSync(paths[i]!) ? [] : [i]));
  const started = performance.now();
  const estimates = new Map(
    missing.map((i) => [i, onProgress ? estimateLines(files[i]!, statSync(files[i]!).size) : 0]),
  );
  let rowsDone = 0;
  let filesDone = 0;
  const report = (current: number, done: boolean): void => {
    let rowsTotal = 0;
    for (const e of estimates.values()) rowsTotal += e;
    onProgress?.({
      rowsDone: Math.min(rowsDone + current, rowsTotal),
      rowsTotal,
      filesDone,
      filesTotal: missing.length,
      seconds: (performance.now() - started) / 1000,
      done,
    });
  };
  for (const i of missing) {
    const path = paths[i]!;
    const tmp = `${path}.${process.pid}.tmp`;
    const estimate = estimates.get(i)!;
    const poll = onProgress
      ? setInterval(
          () => report(Math.round((estimate * (client.progress() ?? 0)) / 100), false),
          PROGRESS_INTERVAL_MS,
        )
      : null;
    const rewritten = `${path}.${process.pid}.jsonl.tmp`;
    const copy = async (sql: string): Promise<Record<string, unknown>[]> => {
      // The entry's rows in any order (nothing reads its order: `__line` is null for JSON Lines,
      // the reject examples come from the file itself): DuckDB then reads, validates and writes
      // without keeping the lines' order, ~10% less CPU (1M e-commerce events: 4.0 → 3.6 CPU-s).
      const [setting] = await client.all(
        `SELECT current_setting('preserve_insertion_order')::VARCHAR AS v`,
      );
      await client.run('SET preserve_insertion_order = false');
      try {
        return await client.all(
          `COPY (SELECT * EXCLUDE (__line) FROM (${sql})) TO ${sqlString(tmp)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)`,
        );
      } finally {
        await client.run(
          `SET preserve_insertion_order = ${sqlString(String(setting?.v ?? 'true'))}`,
        );
      }
    };
    /**
     * `file` validated into `tmp` (its rows named `name`): first with the typed parse outside
     * `TRY` (`untried`: the same rows; `TRY` cost the parse 0.1–0.4 CPU-s per 1M e-commerce
     * events on one thread), which fails on a line that is not JSON; then, after any failure,
     * as before.
     */
    const validate = async (file: string, name: string): Promise<Record<string, unknown>[]> => {
      const sql = (untried: boolean): string => {
        const read = readSourceSql(schema, all, { jsonl: [file], parquet: [] }, { untried });
        return file === name
          ? read
          : `SELECT * REPLACE (${sqlString(name)} AS __file) FROM (${read})`;
      };
      try {
        return await copy(sql(true));
      } catch {
        return await copy(sql(false));
      }
    };
    try {
      let copied: Record<string, unknown> | undefined;
      try {
        [copied] = await validate(files[i]!, files[i]!);
      } catch (e) {
        // DuckDB's line reader refused the file (line breaks, encoding): read it rewritten.
        if (!/Invalid Input Error/.test(String(e))) throw e;
        await rewriteJsonl(files[i]!, rewritten);
        [copied] = await validate(rewritten, files[i]!);
      }
      renameSync(tmp, path);
      // The file's rows, counted: blank lines are not rows.
      const rows = Number(Object.values(copied ?? {})[0] ?? estimate);
      estimates.set(i, rows);
      rowsDone += rows;
      filesDone++;
    } finally {
      if (poll) clearInterval(poll);
      rmSync(tmp, { force: true });
      rmSync(rewritten, { force: true });
    }
    report(0, filesDone === missing.length);
  }
  return paths;
}

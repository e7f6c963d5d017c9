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
 *
 * When the native validator is built (`npm run build:native`; `native-validate.ts`), it writes
 * the entry instead of DuckDB — the same rows, values, types and reasons, in less than half the
 * CPU — and DuckDB validates only the files it leaves (a line it cannot decide exactly, any
 * failure); `native: false` (the store's `nativeValidation`) leaves every file to DuckDB.
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
import { threadId } from 'node:worker_threads';
import type { RecordType } from '../../definitions/record-schema.ts';
import type { ValidationProgress } from '../offline-store.ts';
import type { DuckDBClient } from '../local/duckdb-client.ts';
import { sqlString } from '../local/duckdb-client.ts';
import { readSourceSql } from './sql/read-source.ts';
import { rewriteJsonl } from './jsonl-rewrite.ts';
import { nativeValidator, runNative, writePlan } from './native-validate.ts';

/**
 * Temporary files' owner: the process and thread (a materialization's worker threads each
 * validate the sources of their views, in one process).
 */
const owner = `${process.pid}-${threadId}`;

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
 * the files' sizes and DuckDB's progress through each (or the native validator's line counts),
 * counted as each file is done. `native` validates with the native validator when it is built
 * (a path: with that executable, which tests replace).
 */
export async function cachedJsonl(
  client: DuckDBClient,
  cacheDir: string,
  schema: RecordType,
  files: readonly string[],
  onProgress?: (p: ValidationProgress) => void,
  native: boolean | string = true,
): Promise<string[]> {
  const [paths] = await cachedJsonlSources(
    client,
    cacheDir,
    [{ schema, files }],
    onProgress,
    native,
  );
  return paths!;
}

/**
 * {@link cachedJsonl} for the files of several sources at once (each with its schema): their
 * missing entries are validated by one pool of two lanes, largest file first whatever its
 * source, so a source's lone file (the 10M benchmark's transactions) or the odd one out of a
 * source's files runs beside another source's instead of alone on one core. The entries per
 * source, in order; `onProgress` follows every missing file together.
 */
export async function cachedJsonlSources(
  client: DuckDBClient,
  cacheDir: string,
  sources: readonly { schema: RecordType; files: readonly string[] }[],
  onProgress?: (p: ValidationProgress) => void,
  native: boolean | string = true,
): Promise<string[][]> {
  mkdirSync(cacheDir, { recursive: true });
  /** Every file of every source, flat: `files[i]` of `sources[group[i]]`. */
  const files = sources.flatMap((s) => s.files);
  const group = sources.flatMap((s, g) => s.files.map(() => g));
  const paths = files.map((file, i) => cachePath(cacheDir, sources[group[i]!]!.schema, file));
  // Two sources over the same files with the same schema share entries: each validated once.
  const seen = new Set<string>();
  const missing = files.flatMap((_, i) => {
    const path = paths[i]!;
    if (seen.has(path) || existsSync(path)) return [];
    seen.add(path);
    return [i];
  });
  const byGroup = (): string[][] => {
    let at = 0;
    return sources.map((s) => paths.slice(at, (at += s.files.length)));
  };
  const started = performance.now();
  const estimates = new Map(
    missing.map((i) => [i, onProgress ? estimateLines(files[i]!, statSync(files[i]!).size) : 0]),
  );
  let rowsDone = 0;
  let filesDone = 0;
  let reported = 0;
  /** The files being validated, with their rows validated so far. */
  const running = new Map<number, () => number>();
  const report = (done: boolean): void => {
    let rowsTotal = 0;
    for (const e of estimates.values()) rowsTotal += e;
    let current = 0;
    for (const rows of running.values()) current += rows();
    // Never backwards while files overlap (an estimate replaced by the count may be smaller).
    reported = Math.min(Math.max(reported, rowsDone + current), rowsTotal);
    onProgress?.({
      rowsDone: done ? rowsTotal : reported,
      rowsTotal,
      filesDone,
      filesTotal: missing.length,
      seconds: (performance.now() - started) / 1000,
      done,
    });
  };
  /** `tmp` written from `sql` on `conn` (the caller turns `preserve_insertion_order` off). */
  const copy = (conn: DuckDBClient, sql: string, tmp: string): Promise<Record<string, unknown>[]> =>
    // The entry's rows in any order (nothing reads its order: `__line` is null for JSON Lines,
    // the reject examples come from the file itself): DuckDB then reads, validates and writes
    // without keeping the lines' order, ~10% less CPU (1M e-commerce events: 4.0 → 3.6 CPU-s).
    conn.all(
      `COPY (SELECT * EXCLUDE (__line) FROM (${sql})) TO ${sqlString(tmp)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)`,
    );
  /**
   * `file` validated into `tmp` (its rows named `name`): first with the typed parse outside
   * `TRY` (`untried`: the same rows; `TRY` cost the parse 0.1–0.4 CPU-s per 1M e-commerce
   * events on one thread), which fails on a line that is not JSON; then, after any failure,
   * as before.
   */
  const validate = async (
    conn: DuckDBClient,
    schema: RecordType,
    file: string,
    name: string,
    tmp: string,
  ): Promise<Record<string, unknown>[]> => {
    const sql = (untried: boolean): string => {
      const read = readSourceSql(
        schema,
        Object.keys(schema.fields),
        { jsonl: [file], parquet: [] },
        { untried, rewritten: file !== name },
      );
      return file === name
        ? read
        : `SELECT * REPLACE (${sqlString(name)} AS __file) FROM (${read})`;
    };
    try {
      return await copy(conn, sql(true), tmp);
    } catch {
      return await copy(conn, sql(false), tmp);
    }
  };
  /** The native validator and its plan file, when it is built (`native-validate.ts`). */
  const exe =
    native && missing.length > 0 ? (typeof native === 'string' ? native : nativeValidator()) : null;
  /** Each source's plan file (its schema), written when one of its files is missing. */
  const stamp = Date.now();
  const plans = sources.map((_, g) => join(cacheDir, `plan.${owner}.${stamp}.${g}.json`));
  if (exe)
    for (const g of new Set(missing.map((i) => group[i]!)))
      writePlan(plans[g]!, sources[g]!.schema);
  /**
   * File `i` validated into `tmp` by the native validator: its rows, or null when it could not
   * decide a line exactly (or failed): DuckDB validates the file then.
   */
  const viaNative = async (i: number, tmp: string): Promise<number | null> => {
    if (!exe) return null;
    let lines = 0;
    running.set(i, () => lines);
    try {
      const r = await runNative(
        exe,
        plans[group[i]!]!,
        files[i]!,
        files[i]!,
        tmp,
        (n) => (lines = n),
      );
      return 'rows' in r ? r.rows : null;
    } catch {
      return null;
    }
  };
  /** Validates file `i` into its entry on `conn`. */
  const one = async (conn: DuckDBClient, i: number): Promise<void> => {
    const path = paths[i]!;
    const { schema } = sources[group[i]!]!;
    const tmp = `${path}.${owner}.tmp`;
    const rewritten = `${path}.${owner}.jsonl.tmp`;
    try {
      let rows = await viaNative(i, tmp);
      if (rows === null) {
        rmSync(tmp, { force: true });
        running.set(i, () => Math.round((estimates.get(i)! * (conn.progress() ?? 0)) / 100));
        let copied: Record<string, unknown> | undefined;
        try {
          [copied] = await validate(conn, schema, files[i]!, files[i]!, tmp);
        } catch (e) {
          // DuckDB's line reader refused the file (line breaks, encoding): read it rewritten.
          if (!/Invalid Input Error/.test(String(e))) throw e;
          await rewriteJsonl(files[i]!, rewritten);
          [copied] = await validate(conn, schema, rewritten, files[i]!, tmp);
        }
        // The file's rows, counted: blank lines are not rows.
        rows = Number(Object.values(copied ?? {})[0] ?? estimates.get(i)!);
      }
      renameSync(tmp, path);
      estimates.set(i, rows);
      rowsDone += rows;
      filesDone++;
    } finally {
      running.delete(i);
      rmSync(tmp, { force: true });
      rmSync(rewritten, { force: true });
    }
    report(filesDone === missing.length);
  };
  if (missing.length === 0) return byGroup();
  // Two files at a time, each on its own connection (largest first, whatever their source): a
  // file's validation has stretches where one DuckDB thread works alone (its start and its
  // end), and a native validator is one process; the other file's keeps the second core busy
  // then. DuckDB's threads are shared by both statements.
  const order = [...missing].sort(
    (a, b) => statSync(files[b]!).size - statSync(files[a]!).size || a - b,
  );
  const conns = [client];
  const poll = onProgress ? setInterval(() => report(false), PROGRESS_INTERVAL_MS) : null;
  // Nothing reads an entry's row order (see `copy`); the setting is global to the database.
  const [setting] = await client.all(
    `SELECT current_setting('preserve_insertion_order')::VARCHAR AS v`,
  );
  await client.run('SET preserve_insertion_order = false');
  try {
    if (order.length > 1) conns.push(await client.sibling());
    let next = 0;
    let failed = false;
    const lane = async (conn: DuckDBClient): Promise<void> => {
      while (!failed && next < order.length) {
        const i = order[next++]!;
        try {
          await one(conn, i);
        } catch (e) {
          failed = true;
          throw e;
        }
      }
    };
    const lanes = await Promise.allSettled(conns.map(lane));
    for (const l of lanes) if (l.status === 'rejected') throw l.reason;
  } finally {
    if (poll) clearInterval(poll);
    for (const plan of plans) rmSync(plan, { force: true });
    for (const c of conns.slice(1)) c.close();
    await client.run(`SET preserve_insertion_order = ${sqlString(String(setting?.v ?? 'true'))}`);
  }
  return byGroup();
}

/**
 * The batch sources of the DuckDB engines (sweep and SQL): the JSON Lines / Parquet files under
 * `<dataDir>/<source.path>/`, validated against their schema and the ingest rules as they are
 * loaded into the local DuckDB (JSON Lines once into a Parquet cache), their bad records
 * counted and reported with examples, and fingerprinted for the sweep's index cache.
 */
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import type { BatchSourceSpec } from '../../definitions/spec.ts';
import type { Pass, PassSource } from '../export/pass.ts';
import { ident, sqlString, type DuckDBClient } from '../local/duckdb-client.ts';
import type { LocalDatabase } from '../local/local-database.ts';
import type { RejectReport, ValidationProgress } from '../offline-store.ts';
import { lineProblem, MAX_DATE_MS, type BatchIngestRules } from '../validate-record.ts';
import { sqlType } from '../local/column-types.ts';
import { cachedJsonl, cachedJsonlSources, cachePath } from './jsonl-cache.ts';
import { jsonlLines } from './jsonl-lines.ts';
import { rewriteJsonl } from './jsonl-rewrite.ts';
import { ingestReasonSql, readSourceSql } from './sql/read-source.ts';
import { renderExpr } from './sql/render-expr.ts';
import { duckdbSnapshots } from './batch-snapshots.ts';
import type { SnapshotJob } from '../batch/snapshot-job.ts';

export interface DuckDBSourcesConfig {
  /** Batch sources live under `<dataDir>/<source.path>/`. */
  dataDir: string;
  /** Where the validated JSON Lines cache lives (`<home>/offline-cache`). */
  cacheDir: string;
  /** Validate each JSON Lines file once into a Parquet cache (see the store config). */
  cacheJsonl: boolean;
  /** Validate new files with the native validator when it is built (default true). */
  nativeValidation?: boolean;
  /** How many example rejects to keep per file. */
  rejectExamples: number;
  /**
   * Raw records stamped later than `clock()` + `maxFutureSkewMs`, or outside JavaScript's date
   * range, are counted rejects.
   */
  ingest: { clock: () => number; maxFutureSkewMs: number };
}

export class DuckDBSources {
  readonly #config: DuckDBSourcesConfig;
  readonly #db: LocalDatabase;

  constructor(config: DuckDBSourcesConfig, db: LocalDatabase) {
    this.#config = config;
    this.#db = db;
  }

  /** Where the engines cache what they compute from sources. */
  get cacheDir(): string {
    return this.#config.cacheDir;
  }

  /** The files of a batch source: `*.jsonl` and `*.parquet`, recursively, sorted. */
  sourceFiles(spec: BatchSourceSpec): { jsonl: string[]; parquet: string[] } {
    const root = join(this.#config.dataDir, spec.path);
    const jsonl: string[] = [];
    const parquet: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir).sort()) {
        const p = join(dir, name);
        if (statSync(p).isDirectory()) walk(p);
        else if (/\.(jsonl|ndjson)$/.test(name)) jsonl.push(p);
        else if (name.endsWith('.parquet')) parquet.push(p);
      }
    };
    if (existsSync(root)) walk(root);
    return { jsonl, parquet };
  }

  /**
   * Validates the JSON Lines files of `specs` not in the cache yet into it, in one pool over
   * every source's files (`cachedJsonlSources`); `onValidate` follows them with the names of
   * the sources that had any. A later {@link load} of these sources finds their entries.
   */
  async validate(
    client: DuckDBClient,
    specs: readonly BatchSourceSpec[],
    onValidate: (sources: string[], p: ValidationProgress) => void,
  ): Promise<void> {
    if (!this.#config.cacheJsonl) return;
    const sources = specs.map((spec) => ({ spec, files: this.sourceFiles(spec).jsonl }));
    const cacheDir = this.#config.cacheDir;
    const names = sources
      .filter((s) => s.files.some((f) => !existsSync(cachePath(cacheDir, s.spec.schema, f))))
      .map((s) => s.spec.name);
    if (names.length === 0) return;
    await cachedJsonlSources(
      client,
      cacheDir,
      sources.map((s) => ({ schema: s.spec.schema, files: s.files })),
      (p) => onValidate(names, p),
      this.#config.nativeValidation ?? true,
    );
  }

  /**
   * Loads the fields `paths` need from a batch source into a temp table; reports rejects.
   * `onValidate` follows the validation of JSON Lines files not in the cache yet.
   */
  async load(
    client: DuckDBClient,
    spec: BatchSourceSpec,
    paths: Iterable<string>,
    rejects: RejectReport[],
    onValidate?: (p: ValidationProgress) => void,
  ): Promise<PassSource> {
    const table = this.#db.name('src');
    const fields = new Set<string>([spec.timestampField, spec.idField]);
    for (const p of paths) fields.add(p.split(/[.[]/)[0] as string);
    const files = this.sourceFiles(spec);
    const cols = [...fields].filter((f) => f in spec.schema.fields);
    if (files.jsonl.length + files.parquet.length === 0) {
      // Typed as a read of files would type them (maps as MAPs, records as STRUCTs), so the
      // passes' and batch views' SQL binds the same on an empty source.
      const typed = cols.map((c) => `NULL::${sqlType(spec.schema.fields[c]!)} AS ${ident(c)}`);
      await client.run(
        `CREATE TEMP TABLE ${table} AS SELECT NULL::VARCHAR AS __file, NULL::BIGINT AS __line, NULL::VARCHAR AS __reason${typed.map((t) => `, ${t}`).join('')} LIMIT 0`,
      );
      return { table };
    }
    const stats = [...files.jsonl, ...files.parquet].map((f) => {
      const st = statSync(f);
      return [resolve(f), st.size, st.mtimeMs, st.ctimeMs, st.ino];
    });
    // One wall-clock reading for the whole source: its counts and examples agree.
    const rules = {
      timestampField: spec.timestampField,
      now: this.#config.ingest.clock(),
      maxFutureSkewMs: this.#config.ingest.maxFutureSkewMs,
    };
    let sql: string;
    // Validated Parquet is cheap to rescan: a view keeps DuckDB's memory for the window passes
    // (materializing 10M events with their maps and structs made them spill).
    let kind = 'TABLE';
    /** Validated Parquet entries of the JSON Lines files, with their files. */
    let cachedFiles: { cache: string; file: string }[] = [];
    if (this.#config.cacheJsonl && files.jsonl.length > 0) {
      if (files.parquet.length === 0) kind = 'VIEW';
      const cached = await cachedJsonl(
        client,
        this.#config.cacheDir,
        spec.schema,
        files.jsonl,
        onValidate,
        this.#config.nativeValidation ?? true,
      );
      cachedFiles = cached.map((cache, i) => ({ cache, file: files.jsonl[i]! }));
      const picked = cols.map((c) => ident(c)).join(', ');
      sql = `SELECT __file, NULL::BIGINT AS __line, __reason${picked ? `, ${picked}` : ''} FROM read_parquet([${cached.map(sqlString).join(', ')}])`;
      if (files.parquet.length > 0)
        sql += ` UNION ALL BY NAME ${readSourceSql(spec.schema, cols, { jsonl: [], parquet: files.parquet })}`;
    } else sql = readSourceSql(spec.schema, cols, files);
    // The ingest rules on top of the schema's reasons (the JSON Lines cache holds the latter).
    const withIngest = (s: string): string =>
      `SELECT * REPLACE (COALESCE(__reason, ${ingestReasonSql(spec.timestampField, rules)}) AS __reason) FROM (${s})`;
    try {
      await client.run(`CREATE TEMP ${kind} ${table} AS ${withIngest(sql)}`);
    } catch (e) {
      // Without the cache, a JSON Lines file DuckDB's line reader refuses (line breaks,
      // encoding) is read rewritten, as the cache does (`jsonl-rewrite.ts`), under its own name.
      if (kind !== 'TABLE' || files.jsonl.length === 0 || !/Invalid Input Error/.test(String(e)))
        throw e;
      const rewritten = files.jsonl.map((_, i) => join(this.#db.tmpDir, `${table}-${i}.jsonl`));
      for (const [i, f] of files.jsonl.entries()) await rewriteJsonl(f, rewritten[i]!);
      const names = files.jsonl
        .map((f, i) => `WHEN ${sqlString(rewritten[i]!)} THEN ${sqlString(f)}`)
        .join(' ');
      sql = `SELECT * REPLACE (CASE __file ${names} ELSE __file END AS __file) FROM (${readSourceSql(spec.schema, cols, { ...files, jsonl: rewritten }, { rewritten: true })})`;
      try {
        await client.run(`CREATE TEMP TABLE ${table} AS ${withIngest(sql)}`);
      } finally {
        for (const r of rewritten) rmSync(r, { force: true });
      }
    }
    // Validated Parquet files whose statistics say `__reason` is null throughout have no
    // rejects: only the others (and raw Parquet sources, validated as they are read) are scanned.
    let clean: string[] = [];
    if (cachedFiles.length > 0) {
      const none = new Set(
        (
          await client.all(
            `SELECT file_name AS f FROM parquet_metadata([${cachedFiles.map((c) => sqlString(c.cache)).join(', ')}]) ` +
              `GROUP BY file_name HAVING ` +
              `sum(stats_null_count) FILTER (path_in_schema = '__reason') = sum(row_group_num_rows) FILTER (path_in_schema = '__reason') ` +
              // ...and whose event times lie inside the ingest rules' range.
              `AND max(TRY_CAST(stats_max AS DOUBLE)) FILTER (path_in_schema = ${sqlString(spec.timestampField)}) <= ${rules.now + rules.maxFutureSkewMs} ` +
              `AND min(TRY_CAST(stats_min AS DOUBLE)) FILTER (path_in_schema = ${sqlString(spec.timestampField)}) >= -${MAX_DATE_MS}`,
          )
        ).map((r) => String(r.f)),
      );
      clean = cachedFiles.filter((c) => none.has(c.cache)).map((c) => c.file);
    }
    const bad =
      files.parquet.length === 0 && clean.length === files.jsonl.length
        ? []
        : await client.all(
            `SELECT __file AS file, count(*) AS n FROM ${table} WHERE __reason IS NOT NULL${clean.length > 0 ? ` AND __file NOT IN (${clean.map(sqlString).join(', ')})` : ''} GROUP BY __file ORDER BY __file`,
          );
    for (const b of bad) {
      const file = String(b.file);
      const report: RejectReport = { source: spec.name, file, count: Number(b.n), examples: [] };
      if (file.endsWith('.parquet')) {
        const ex = await client.all(
          `SELECT __line AS line, __reason AS reason FROM ${table} WHERE __file = ${sqlString(file)} AND __reason IS NOT NULL ORDER BY __line LIMIT ${this.#config.rejectExamples}`,
        );
        report.examples = ex.map((e) => ({ line: Number(e.line), reason: String(e.reason) }));
      } else report.examples = await this.#jsonlExamples(spec, file, rules);
      rejects.push(report);
    }
    // Rejects by the ingest rules depend on the clock: their counts are part of the key.
    const fingerprint = createHash('sha256')
      .update(JSON.stringify([spec.schema, stats, bad.map((b) => [String(b.file), Number(b.n)])]))
      .digest('hex');
    return { table, fingerprint };
  }

  /** The first few bad lines of a JSON Lines file, with line numbers (scans until it has them). */
  async #jsonlExamples(
    spec: BatchSourceSpec,
    file: string,
    rules: BatchIngestRules,
  ): Promise<{ line: number; reason: string }[]> {
    const out: { line: number; reason: string }[] = [];
    let n = 0;
    for await (const line of jsonlLines(file)) {
      n++;
      const reason = lineProblem(spec.schema, line, rules);
      if (reason) out.push({ line: n, reason });
      if (out.length >= this.#config.rejectExamples) break;
    }
    return out;
  }

  /** Every entity key tuple of the passes' good events (see `ExportEngine.gridKeys`). */
  gridKeysSql(passes: readonly Pass[]): string {
    return passes
      .map(
        (p) =>
          `SELECT DISTINCT ${p.keys.map((k, i) => `${renderKey(p, i)} AS ${ident(k.joinKey)}`).join(', ')} FROM ${p.srcTable} WHERE __reason IS NULL${p.filter ? ` AND ${renderFilter(p)} IS TRUE` : ''} AND ${p.keys.map((_, i) => `${renderKey(p, i)} IS NOT NULL`).join(' AND ')}`,
      )
      .join(' UNION ');
  }
}

const renderKey = (p: Pass, i: number): string => renderExpr(p.schema, p.keys[i]!.expr);
const renderFilter = (p: Pass): string => renderExpr(p.schema, p.filter!);

/**
 * What the DuckDB engines (sweep, SQL) share: they read sources into the local DuckDB and list
 * a time grid's entity keys the same way, through {@link DuckDBSources}.
 */
export abstract class DuckDBSourcesEngine {
  readonly #sources: DuckDBSources;

  constructor(sources: DuckDBSources) {
    this.#sources = sources;
  }

  source(
    client: DuckDBClient,
    spec: BatchSourceSpec,
    paths: ReadonlySet<string>,
    rejects: RejectReport[],
    onValidate?: (p: ValidationProgress) => void,
  ): Promise<PassSource> {
    return this.#sources.load(client, spec, paths, rejects, onValidate);
  }

  validateSources(
    client: DuckDBClient,
    specs: readonly BatchSourceSpec[],
    onValidate: (sources: string[], p: ValidationProgress) => void,
  ): Promise<void> {
    return this.#sources.validate(client, specs, onValidate);
  }

  gridKeys(_client: DuckDBClient, passes: readonly Pass[]): Promise<string> {
    return Promise.resolve(this.#sources.gridKeysSql(passes));
  }

  /** Batch view snapshots, run locally (see `offline/duckdb/batch-snapshots.ts`). */
  batchSnapshots(job: SnapshotJob): Promise<string> {
    return duckdbSnapshots(job, this.#sources.cacheDir);
  }
}

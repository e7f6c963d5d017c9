/**
 * The BigQuery export engine: the aggregations of an export run where the events live. It
 * uploads `(rid, join keys, t)` of the entity rows with a load job, runs {@link bqExportSql} as
 * one query job and appends the result pages to a local DuckDB table; time grids' entity keys
 * and `computeTiles` (materialization) are query jobs too. Raw events never leave BigQuery;
 * only entity keys and times go up and only feature values come back. Tables are typed; the
 * batch ingest rules (event times later than now + `ingest.maxFutureSkew` or outside
 * JavaScript's date range) leave rows out of every read, counted as rejects per table by one
 * more query over the event-time column (`sql/ingest-rules-sql.ts`).
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { BatchSourceSpec, FeatureSpec } from '../../definitions/spec.ts';
import { inferExprType } from '../../definitions/expr/expr-type.ts';
import type { Scalar } from '../../core/types.ts';
import {
  passValueSql,
  type ExportJob,
  type SqlExportEngine,
  type SqlFeatureValues,
} from '../export/export-engine.ts';
import type { Pass, PassSource } from '../export/pass.ts';
import { sqlValueType } from '../local/column-types.ts';
import { ident, sqlString, type DuckDBClient } from '../local/duckdb-client.ts';
import {
  STATISTICS_QUANTILES,
  type LifetimeRecord,
  type RejectReport,
  type SourceStatistics,
  type SourceStatisticsRequest,
  type TileBatch,
} from '../offline-store.ts';
import { sourceStatisticsSql } from '../statistics/source-statistics.ts';
import type { BigQueryClientLike, BqField } from './bigquery-client.ts';
import { bqIdent, bqString, bqTable } from './sql/bq-sql.ts';
import {
  bqGoodSql,
  bqIngestReasonSql,
  bqRejectedSql,
  bqSourceSql,
  type BqIngestRules,
} from './sql/ingest-rules-sql.ts';
import { bqExportSql } from './sql/export-sql.ts';
import { bqDistinctKeysSql } from './sql/pass-sql.ts';
import { bqTilesSql } from './sql/tiles-sql.ts';
import { bqSequenceEventsSql } from './sql/sequence-events-sql.ts';
import { SequenceTileFolder, type TileRecords } from '../sequence-tile-fold.ts';
import { bqCheckQuery, bqSnapshots } from './batch-snapshots.ts';
import type { SnapshotJob } from '../batch/snapshot-job.ts';

export class BigQueryEngine implements SqlExportEngine {
  readonly name = 'bigquery';
  readonly output = 'sql';
  readonly #client: () => BigQueryClientLike;
  readonly #project: string;
  readonly #dataset: string;
  readonly #pageSize: number;
  readonly #upload: 'load' | 'insert';
  readonly #ingest: { clock: () => number; maxFutureSkewMs: number };

  constructor(opts: {
    client: () => BigQueryClientLike;
    project: string;
    dataset: string;
    pageSize: number;
    upload: 'load' | 'insert';
    /** The batch ingest rules: rows stamped later than `clock()` + `maxFutureSkewMs` are rejects. */
    ingest: { clock: () => number; maxFutureSkewMs: number };
  }) {
    this.#upload = opts.upload;
    this.#ingest = opts.ingest;
    this.#client = opts.client;
    this.#project = opts.project;
    this.#dataset = opts.dataset;
    this.#pageSize = opts.pageSize;
  }

  /** The ingest rules of a read starting now (one clock reading per source and read). */
  #rules(): BqIngestRules {
    return { now: this.#ingest.clock(), maxFutureSkewMs: this.#ingest.maxFutureSkewMs };
  }

  /**
   * The source's table, `<project>.<dataset>.<source.bigqueryTable>`, as the subquery of its
   * rows the ingest rules accept (`bqSourceSql`): nothing is loaded. The rows they reject are
   * counted by one query over the event-time column and reported in `rejects` (the table as
   * the file; a table has no line numbers, so no examples).
   */
  async source(
    _client: DuckDBClient,
    spec: BatchSourceSpec,
    _paths: ReadonlySet<string>,
    rejects: RejectReport[],
  ): Promise<PassSource> {
    const table = bqTable(this.#project, this.#dataset, spec.bigqueryTable);
    const rules = this.#rules();
    const read = await this.#client().query(
      `SELECT COUNTIF(${bqRejectedSql(spec.timestampField, rules)}) AS n FROM ${table}`,
    );
    const n = Number((await read(null, 1)).rows[0]?.n ?? 0);
    if (n > 0)
      rejects.push({
        source: spec.name,
        file: `${this.#project}.${this.#dataset}.${spec.bigqueryTable}`,
        count: n,
        examples: [],
      });
    return {
      table: bqSourceSql(table, Object.keys(spec.schema.fields), spec.timestampField, rules),
    };
  }

  /** The passes' distinct key tuples, computed in BigQuery and read into a local table. */
  async gridKeys(
    client: DuckDBClient,
    passes: readonly Pass[],
    name: (prefix: string) => string,
  ): Promise<string> {
    const table = name('grid_keys');
    const keys = passes[0]?.keys.map((k) => k.joinKey) ?? [];
    await client.run(
      `CREATE TEMP TABLE ${table} (${keys.map((k) => `${ident(k)} VARCHAR`).join(', ')})`,
    );
    if (passes.length === 0) return `SELECT * FROM ${table}`;
    const sql = `SELECT DISTINCT * FROM (${passes.map((p) => bqDistinctKeysSql(p)).join(' UNION ALL ')})`;
    const read = await this.#client().query(sql);
    let token: string | null = null;
    do {
      const page = await read(token, this.#pageSize);
      token = page.pageToken;
      if (page.rows.length > 0)
        await client.appendColumns(
          table,
          keys.map((k) => page.rows.map((r) => (r[k] === null ? null : String(r[k])))),
        );
    } while (token);
    return `SELECT * FROM ${table}`;
  }

  /**
   * A batch source's statistics as query jobs over its table (`sourceStatisticsSql`), the rows
   * the ingest rules reject counted by reason.
   */
  sourceStatistics(spec: BatchSourceSpec, req: SourceStatisticsRequest): Promise<SourceStatistics> {
    const table = bqTable(this.#project, this.#dataset, spec.bigqueryTable);
    const rules = this.#rules();
    const all = async (sql: string): Promise<Record<string, unknown>[]> => {
      const read = await this.#client().query(sql);
      const rows: Record<string, unknown>[] = [];
      let token: string | null = null;
      do {
        const page = await read(token, this.#pageSize);
        token = page.pageToken;
        rows.push(...page.rows);
      } while (token);
      return rows;
    };
    // APPROX_QUANTILES(x, 20) has 21 boundaries: the 5%, 25%, 50%, 75%, 95% ones are these.
    const at = STATISTICS_QUANTILES.map((q) => Math.round(q * 20));
    return sourceStatisticsSql(
      {
        ident: bqIdent,
        string: bqString,
        double: 'FLOAT64',
        bigint: 'INT64',
        text: 'STRING',
        quantiles: (x) => `APPROX_QUANTILES(${x}, 20)`,
        readQuantiles: (v) => (Array.isArray(v) ? at.map((i) => Number(v[i])) : []),
        good: `(${bqGoodSql(spec.timestampField, rules)})`,
        rejected: `(${bqRejectedSql(spec.timestampField, rules)})`,
        reason: bqIngestReasonSql(spec.timestampField, rules),
        all,
      },
      table,
      spec,
      req,
    );
  }

  /** `apply`: the view's query run on an empty input in BigQuery (see `bqCheckQuery`). */
  checkBatchView(job: Pick<SnapshotJob, 'view' | 'cols' | 'source'>): Promise<void> {
    const src = { table: bqTable(this.#project, this.#dataset, job.source.bigqueryTable) };
    return bqCheckQuery(this.#client(), { ...job, src });
  }

  /** Batch view snapshots, run in BigQuery (see `offline/bigquery/batch-snapshots.ts`). */
  batchSnapshots(job: SnapshotJob): Promise<string> {
    return bqSnapshots(job, this.#client(), this.#pageSize);
  }

  /**
   * The tiles and lifetime states of one view's pass (`viewPass`) computed in BigQuery
   * (`bqTilesSql`), read page by page into batches of `batchSize` records.
   */
  async *tiles(req: {
    pass: Pass;
    start: number;
    end: number;
    batchSize: number;
  }): AsyncIterable<TileBatch> {
    const bq = this.#client();
    const nKeys = req.pass.keys.length;
    for (const q of bqTilesSql(req.pass, req.start, req.end)) {
      const read = await bq.query(q.sql);
      let token: string | null = null;
      let batch: TileBatch = { tiles: [], lifetime: [] };
      do {
        const page = await read(token, this.#pageSize);
        token = page.pageToken;
        for (const row of page.rows) {
          const key = Array.from({ length: nKeys }, (_, i) => row[`__k${i}`] as Scalar);
          const states = q.decode(row);
          if (q.hopMs === null)
            batch.lifetime.push({ key, states: states as LifetimeRecord['states'] });
          else batch.tiles.push({ key, hopMs: q.hopMs, hop: Number(row.__hop), states });
          if (batch.tiles.length + batch.lifetime.length >= req.batchSize) {
            yield batch;
            batch = { tiles: [], lifetime: [] };
          }
        }
      } while (token);
      if (batch.tiles.length + batch.lifetime.length > 0) yield batch;
    }
  }

  /**
   * Folds the sequence features' events of `[start, end)`, read from BigQuery
   * (`bqSequenceEventsSql`), into `into` (see `offline/sequence-tile-fold.ts`).
   */
  async sequenceTiles(
    req: {
      pass: Pass;
      features: readonly FeatureSpec[];
      ttlMs: number;
      start: number;
      end: number;
      /** Per hop size, the first hop materialization keeps (`ComputeTilesRequest`). */
      firstHops?: ReadonlyMap<number, number>;
    },
    into: TileRecords,
  ): Promise<void> {
    const { pass, features } = req;
    const folder = new SequenceTileFolder(features, req.ttlMs, into, req.firstHops);
    const nKeys = pass.keys.length;
    // INT64 / FLOAT64 values may arrive as strings: compared fields are read as their type.
    const numeric = features.map((f) => {
      const t = f.input ? inferExprType(pass.schema, f.input) : null;
      return t !== null && !('error' in t) && (t.type === 'int64' || t.type === 'float64');
    });
    const read = await this.#client().query(
      bqSequenceEventsSql(pass, features, req.start, req.end),
    );
    let token: string | null = null;
    do {
      const page = await read(token, this.#pageSize);
      token = page.pageToken;
      for (const row of page.rows) {
        const key = Array.from({ length: nKeys }, (_, i) => row[`__k${i}`] as Scalar);
        const ts = Number(row.__ts);
        const id = String(row.__id);
        features.forEach((_, j) => {
          const raw = row[`__v${j}`];
          const value =
            raw === null || raw === undefined ? null : numeric[j] ? Number(raw) : (raw as Scalar);
          folder.add(j, key, { ts, id, value, match: Number(row[`__m${j}`]) === 1 });
        });
      }
    } while (token);
  }

  async aggregate(job: ExportJob): Promise<SqlFeatureValues> {
    const bq = this.#client();
    const { client, joinKeys, passes, total } = job;
    const table = job.name('remote');
    const cols = passes.flatMap((p) => p.features);
    await client.run(
      `CREATE TEMP TABLE ${table} (__rid BIGINT${cols.map((pf) => `, ${ident(pf.col)} ${sqlValueType(pf.feature.type)}`).join('')})`,
    );
    const upload = `_larder_entities_${randomUUID().replaceAll('-', '')}`;
    const file = join(job.tmpDir, `${upload}.jsonl`);
    const keyCols = joinKeys.map((k, i) => `CAST(${ident(k)} AS VARCHAR) AS k${i}`);
    await client.run(
      `COPY (SELECT __rid AS rid, ${keyCols.join(', ')}, __t AS t FROM ${job.entTable}) TO ${sqlString(file)} (FORMAT json)`,
    );
    try {
      const fields: BqField[] = [
        { name: 'rid', type: 'INT64' },
        ...joinKeys.map((_, i) => ({ name: `k${i}`, type: 'STRING' as const })),
        { name: 't', type: 'INT64' },
      ];
      if (this.#upload === 'load') await bq.loadJsonl(upload, file, fields);
      else {
        const rows = await client.all(
          `SELECT * FROM read_json(${sqlString(file)}, format = 'newline_delimited')`,
        );
        await bq.insertRows(upload, fields, rows);
      }
      const ent = `(SELECT rid AS __rid, ${joinKeys.map((k, i) => `k${i} AS ${bqIdent(k)}`).join(', ')}, t AS __t FROM ${bqTable(this.#project, this.#dataset, upload)})`;
      const q = bqExportSql(passes, ent);
      const order = q.columns.map((c) => cols.find((pf) => pf.col === c)!);
      const read = await bq.query(q.sql);
      let token: string | null = null;
      let done = 0;
      do {
        const page = await read(token, this.#pageSize);
        token = page.pageToken;
        if (page.rows.length === 0) continue;
        const columns: unknown[][] = [page.rows.map((r) => Number(r.rid))];
        order.forEach((pf, i) => {
          const name = `c${i}`;
          const t = pf.feature.type;
          const num =
            t === 'int64' || t === 'float64' || t === 'int64_list' || t === 'float64_list';
          const conv = (v: unknown): unknown => (num ? Number(v) : v);
          columns.push(
            page.rows.map((r) => {
              const v = r[name];
              if (v === null || v === undefined) return null;
              return Array.isArray(v) ? v.map(conv) : conv(v);
            }),
          );
        });
        await client.appendColumns(table, reorder(columns, order, cols));
        done += page.rows.length;
        job.progress('aggregating', done, total);
      } while (token);
    } finally {
      rmSync(file, { force: true });
      await bq.dropTable(upload).catch(() => undefined);
    }
    const valueOf = new Map<string, string>();
    for (const pf of cols) valueOf.set(pf.col, passValueSql(pf, `${table}.${ident(pf.col)}`));
    return { joins: [`LEFT JOIN ${table} ON ${table}.__rid = e.__rid`], valueOf };
  }
}

/** Columns in result order (`rid`, then `order`) → table order (`__rid`, then `cols`). */
function reorder<T>(columns: unknown[][], order: readonly T[], cols: readonly T[]): unknown[][] {
  return [columns[0]!, ...cols.map((c) => columns[1 + order.indexOf(c)]!)];
}

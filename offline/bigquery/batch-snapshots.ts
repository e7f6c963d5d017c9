/**
 * Batch view snapshots on BigQuery: the query runs in the warehouse, all snapshot times of a
 * request in one query job (`UNION ALL` of one snapshot each), and only the snapshot rows come
 * back, into a local table where the one-row-per-entity check runs. Nothing is cached locally:
 * BigQuery keeps the results of an identical query itself.
 */
import type { RecordType } from '../../definitions/record-schema.ts';
import type { ValueType } from '../../core/types.ts';
import { sqlValueType } from '../local/column-types.ts';
import { ident } from '../local/duckdb-client.ts';
import { assertOutput, outputProblems, type ColumnFamily } from '../batch/output-columns.ts';
import type { SnapshotJob } from '../batch/snapshot-job.ts';
import {
  duplicateSql,
  rawQuerySql,
  relationSql,
  snapshotSql,
  SNAPSHOT_COLUMN,
  type SnapshotDialect,
} from '../batch/snapshot-sql.ts';
import type { BigQueryClientLike } from './bigquery-client.ts';
import { bqIdent } from './sql/bq-sql.ts';
import { renderBqExpr } from './sql/render-expr.ts';

const BQ_TYPE: Record<ValueType, string> = {
  int64: 'INT64',
  float64: 'FLOAT64',
  string: 'STRING',
  bool: 'BOOL',
  // Batch views declare scalar features only (offline/batch/output-columns.ts).
  string_list: 'ARRAY<STRING>',
  int64_list: 'ARRAY<INT64>',
  float64_list: 'ARRAY<FLOAT64>',
};

export function bqSnapshotDialect(schema: RecordType): SnapshotDialect {
  return {
    ident: bqIdent,
    type: (t) => BQ_TYPE[t],
    render: (node) => renderBqExpr(schema, node),
    // The source's relation (`BigQueryEngine.source`) holds only the rows the ingest rules keep.
    good: null,
  };
}

/** The family of a BigQuery result column type. */
export function bqFamily(type: string): ColumnFamily {
  const t = type.toUpperCase();
  if (t === 'INTEGER' || t === 'INT64') return 'integer';
  if (t === 'FLOAT' || t === 'FLOAT64' || t === 'NUMERIC' || t === 'BIGNUMERIC') return 'float';
  if (t === 'STRING') return 'string';
  if (t === 'BOOLEAN' || t === 'BOOL') return 'bool';
  return 'other';
}

/**
 * `apply` with a BigQuery offline store: runs the view's query in BigQuery over an empty
 * relation of the source table (`WHERE FALSE`) and checks its result columns.
 */
export async function bqCheckQuery(
  bq: BigQueryClientLike,
  job: Pick<SnapshotJob, 'view' | 'cols' | 'source' | 'src'>,
): Promise<void> {
  const { view, source } = job;
  const d = bqSnapshotDialect(source.schema);
  const rel = `SELECT * FROM (${relationSql(d, view.spec, job.src.table, source.timestampField)}) WHERE FALSE`;
  const where = 'run on an empty input on BigQuery';
  let fields;
  try {
    fields = await bq.querySchema(rawQuerySql(d, view.spec, rel, 0));
  } catch (e) {
    assertOutput(view, where, [(e as Error).message.split('\n')[0]!]);
    throw e;
  }
  assertOutput(
    view,
    where,
    outputProblems(
      job.cols,
      fields.map((f) => ({ ...f, family: bqFamily(f.type) })),
    ),
  );
}

/** Computes the snapshots of `job.times` in BigQuery into a local table. */
export async function bqSnapshots(
  job: SnapshotJob,
  bq: BigQueryClientLike,
  pageSize: number,
): Promise<string> {
  const { client, view, cols, source } = job;
  const all = [...cols.keys, ...cols.features];
  const table = job.name('bv');
  await client.run(
    `CREATE TEMP TABLE ${table} (${SNAPSHOT_COLUMN} BIGINT${all.map((c) => `, ${ident(c.name)} ${sqlValueType(c.type)}`).join('')})`,
  );
  if (job.times.length === 0) return table;
  const d = bqSnapshotDialect(source.schema);
  const rel = relationSql(d, view.spec, job.src.table, source.timestampField);
  const sql = (times: readonly number[]): string =>
    times
      .map((at) => `SELECT * FROM (${snapshotSql(d, view.spec, cols, rel, at)})`)
      .join(' UNION ALL ');
  try {
    const read = await bq.query(sql(job.times));
    let token: string | null = null;
    do {
      const page = await read(token, pageSize);
      token = page.pageToken;
      if (page.rows.length === 0) continue;
      const num = (t: ValueType): boolean => t === 'int64' || t === 'float64';
      await client.appendColumns(table, [
        page.rows.map((r) => Number(r[SNAPSHOT_COLUMN])),
        ...all.map((c) =>
          page.rows.map((r) => {
            const v = r[c.name];
            return v === null || v === undefined ? null : num(c.type) ? Number(v) : v;
          }),
        ),
      ]);
    } while (token);
  } catch (e) {
    // An error of the query on these records (a cast of a value it cannot convert, …), which
    // the run on an empty input at `apply` could not meet: the view's, named with the first
    // snapshot that fails (one job holds them all: halves are run again to find it).
    const message = bqQueryError(e);
    if (message === null) throw e;
    const at = await firstFailing(job.times, async (times) => {
      try {
        await (
          await bq.query(sql(times))
        )(null, 0);
        return false;
      } catch (x) {
        return bqQueryError(x) !== null;
      }
    });
    assertOutput(
      view,
      `snapshot at ${new Date(at).toISOString()} on BigQuery`,
      [`the query fails: ${message}`],
      'make the query hold for every record its source accepts (`apply` runs it only on an empty input), then run again',
    );
  }
  const local: SnapshotDialect = { ...d, ident };
  const [dup] = await client.all(duplicateSql(local, cols, table));
  if (dup)
    assertOutput(
      view,
      `snapshot at ${new Date(Number(dup[SNAPSHOT_COLUMN])).toISOString()} on BigQuery`,
      [
        `the query returns ${String(dup.n)} rows for ${cols.keys.map((k) => `${k.name}=${String(dup[k.name])}`).join(', ')}, not one`,
      ],
    );
  return table;
}

/**
 * The first line of a BigQuery error that is the query's own (every error of the job has the
 * reason `invalidQuery`: a cast of a value it cannot convert, a division by zero, `ERROR()`, an
 * unknown column), or null for the service's (quota, rate limits, backend, access, not found)
 * and anything else. The client library's `ApiError` carries the job's `errors`
 * (`[{ reason, location, message }]`) whether the job failed or its request was refused.
 */
export function bqQueryError(e: unknown): string | null {
  const errors = (e as { errors?: unknown } | null | undefined)?.errors;
  if (!Array.isArray(errors) || errors.length === 0) return null;
  const all = errors as { reason?: unknown; message?: unknown }[];
  if (!all.every((x) => x?.reason === 'invalidQuery')) return null;
  const first = typeof all[0]!.message === 'string' ? all[0]!.message : (e as Error).message;
  return String(first ?? '').split('\n')[0]!;
}

/**
 * The earliest of `times` whose snapshot fails, given that all of them together fail: the
 * earlier half is run alone, and the search goes on in it when it fails, else in the later
 * half (log2(n) more queries, on failure only; none for one snapshot, materialize's case).
 */
async function firstFailing(
  times: readonly number[],
  fails: (times: readonly number[]) => Promise<boolean>,
): Promise<number> {
  let lo = 0;
  let hi = times.length;
  while (hi - lo > 1) {
    const mid = lo + Math.ceil((hi - lo) / 2);
    if (await fails(times.slice(lo, mid))) hi = mid;
    else lo = mid;
  }
  return times[lo]!;
}

/**
 * Batch view snapshots on DuckDB: the query runs locally over the loaded source, one snapshot
 * time at a time, each checked (output columns, one row per entity) and cached as Parquet under
 * `<cacheDir>/batch-views/`, keyed on the source files' fingerprint, the view's query and
 * columns, and D.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { RecordType } from '../../definitions/record-schema.ts';
import type { BatchViewSpec } from '../../definitions/batch/batch-view-spec.ts';
import { DefinitionError, type Problem } from '../../core/errors.ts';
import type { Repository } from '../../definitions/repository.ts';
import { DuckDBClient, ident, sqlString } from '../local/duckdb-client.ts';
import { sqlType, sqlValueType } from '../local/column-types.ts';
import {
  assertOutput,
  outputProblems,
  snapshotColumns,
  type ColumnFamily,
} from '../batch/output-columns.ts';
import type { SnapshotJob } from '../batch/snapshot-job.ts';
import {
  duplicateSql,
  rawQuerySql,
  relationSql,
  snapshotSql,
  SNAPSHOT_COLUMN,
  type SnapshotColumns,
  type SnapshotDialect,
} from '../batch/snapshot-sql.ts';
import { renderExpr } from './sql/render-expr.ts';

export function duckdbSnapshotDialect(schema: RecordType): SnapshotDialect {
  return {
    ident,
    type: sqlValueType,
    render: (node) => renderExpr(schema, node),
    good: '__reason IS NULL',
  };
}

/** The family of a DuckDB column type (what a declared feature type accepts). */
export function duckdbFamily(type: string): ColumnFamily {
  const t = type.toUpperCase();
  if (/^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT)$/.test(t))
    return 'integer';
  if (/^(FLOAT|DOUBLE|DECIMAL.*)$/.test(t)) return 'float';
  if (t === 'VARCHAR') return 'string';
  if (t === 'BOOLEAN') return 'bool';
  if (t === '"NULL"' || t === 'NULL') return 'null';
  return 'other';
}

/** The query's output columns at D over `relation`, as DuckDB describes them. */
async function describeQuery(
  client: DuckDBClient,
  d: SnapshotDialect,
  view: BatchViewSpec,
  relation: string,
  snapshotMs: number,
): Promise<{ name: string; type: string; family: ColumnFamily }[]> {
  const rows = await client.all(`DESCRIBE ${rawQuerySql(d, view, relation, snapshotMs)}`);
  return rows.map((r) => ({
    name: String(r.column_name),
    type: String(r.column_type),
    family: duckdbFamily(String(r.column_type)),
  }));
}

/**
 * Runs a view's query on an empty input of its source's schema (what `apply` does for every
 * batch view): throws a DefinitionError when its output is not the declared columns and types.
 */
export async function checkOnEmptyInput(
  client: DuckDBClient,
  job: Pick<SnapshotJob, 'view' | 'cols' | 'source' | 'name'>,
): Promise<void> {
  const { view, source } = job;
  const empty = job.name('bv_empty');
  const fields = Object.entries(source.schema.fields).map(
    ([k, f]) => `NULL::${sqlType(f)} AS ${ident(k)}`,
  );
  await client.run(
    `CREATE TEMP TABLE ${empty} AS SELECT NULL::VARCHAR AS __reason, ${fields.join(', ')} LIMIT 0`,
  );
  const d = duckdbSnapshotDialect(source.schema);
  const rel = relationSql(d, view.spec, empty, source.timestampField);
  let actual;
  try {
    actual = await describeQuery(client, d, view.spec, rel, 0);
  } catch (e) {
    assertOutput(view, 'run on an empty input on DuckDB', [(e as Error).message.split('\n')[0]!]);
    throw e;
  } finally {
    await client.run(`DROP TABLE ${empty}`);
  }
  assertOutput(view, 'run on an empty input on DuckDB', outputProblems(job.cols, actual));
}

/** The cache key of a view's snapshots over one state of its source, or null (uncached). */
function cacheKey(view: BatchViewSpec, fingerprint: string | undefined): string | null {
  if (!fingerprint) return null;
  const { query, columns, filter, windowMs, entities, features, source } = view;
  return createHash('sha256')
    .update(
      JSON.stringify([fingerprint, query, columns, filter, windowMs, entities, features, source]),
    )
    .digest('hex')
    .slice(0, 24);
}

/** Computes (or reads from the cache) the snapshots of `job.times` into a local table. */
export async function duckdbSnapshots(job: SnapshotJob, cacheDir: string): Promise<string> {
  const { client, view, cols, source } = job;
  const d = duckdbSnapshotDialect(source.schema);
  const rel = job.name('bv_rel');
  await client.run(
    `CREATE TEMP VIEW ${rel} AS ${relationSql(d, view.spec, job.src.table, source.timestampField)}`,
  );
  assertOutput(
    view,
    'run on DuckDB',
    outputProblems(
      cols,
      await describeQuery(client, d, view.spec, `SELECT * FROM ${rel}`, job.times[0] ?? 0),
    ),
  );
  const table = job.name('bv');
  const colDefs = [
    `${SNAPSHOT_COLUMN} BIGINT`,
    ...[...cols.keys, ...cols.features].map((c) => `${ident(c.name)} ${sqlValueType(c.type)}`),
  ];
  await client.run(`CREATE TEMP TABLE ${table} (${colDefs.join(', ')})`);
  const key = cacheKey(view.spec, job.src.fingerprint);
  const dir = key ? join(cacheDir, 'batch-views', `${view.spec.name}-${key}`) : null;
  if (dir) mkdirSync(dir, { recursive: true });
  for (const at of job.times) {
    const file = dir ? join(dir, `${at}.parquet`) : null;
    if (file && existsSync(file)) {
      await client.run(`INSERT INTO ${table} SELECT * FROM read_parquet(${sqlString(file)})`);
      continue;
    }
    const one = job.name('bv_one');
    try {
      await client.run(
        `CREATE TEMP TABLE ${one} AS ${snapshotSql(d, view.spec, cols, `SELECT * FROM ${rel}`, at)}`,
      );
    } catch (e) {
      // An error of the query on these records (a cast of a value it cannot convert, …), which
      // the run on an empty input at `apply` could not meet: the view's, named with D.
      const message = (e as Error).message ?? '';
      if (QUERY_ERROR.test(message))
        assertOutput(
          view,
          `snapshot at ${new Date(at).toISOString()}`,
          [`the query fails: ${message.split('\n')[0]!}`],
          'make the query hold for every record its source accepts (`apply` runs it only on an empty input), then run again',
        );
      throw e;
    }
    await assertOneRowPerEntity(client, job, cols, one, d);
    if (file) {
      const tmp = `${file}.${process.pid}.tmp`;
      await client.run(`COPY ${one} TO ${sqlString(tmp)} (FORMAT parquet)`);
      renameSync(tmp, file);
    }
    await client.run(`INSERT INTO ${table} SELECT * FROM ${one}`);
    await client.run(`DROP TABLE ${one}`);
  }
  await client.run(`DROP VIEW ${rel}`);
  return table;
}

/** DuckDB errors a query meets on some data: not the machine's (memory, I/O, interrupts). */
const QUERY_ERROR =
  /^(Conversion|Out of Range|Invalid Input|Binder|Not implemented|Constraint) Error: /;

async function assertOneRowPerEntity(
  client: DuckDBClient,
  job: SnapshotJob,
  cols: SnapshotColumns,
  table: string,
  d: SnapshotDialect,
): Promise<void> {
  const [dup] = await client.all(duplicateSql(d, cols, table));
  if (!dup) return;
  const keys = cols.keys.map((k) => `${k.name}=${String(dup[k.name])}`).join(', ');
  assertOutput(job.view, `snapshot at ${new Date(Number(dup[SNAPSHOT_COLUMN])).toISOString()}`, [
    `the query returns ${String(dup.n)} rows for ${keys}, not one`,
  ]);
}

/**
 * `plan` / `apply`: runs every batch view's query on an empty input of its source's schema in
 * an in-memory DuckDB; throws one DefinitionError listing every view whose output is not its
 * declared join keys and features with their types.
 */
export async function validateBatchViews(repo: Repository): Promise<void> {
  if (repo.batchViews.size === 0) return;
  const client = await DuckDBClient.open({ threads: '1' });
  const problems: Problem[] = [];
  let n = 0;
  try {
    for (const view of repo.batchViews.values()) {
      try {
        await checkOnEmptyInput(client, {
          view,
          cols: snapshotColumns(repo, view.spec),
          source: view.batch.spec,
          name: (prefix) => `${prefix}_${n++}`,
        });
      } catch (e) {
        if (!(e instanceof DefinitionError)) throw e;
        problems.push(...e.problems);
      }
    }
  } finally {
    client.close();
  }
  if (problems.length > 0) throw new DefinitionError(problems);
}

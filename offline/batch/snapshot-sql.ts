/**
 * The SQL of a batch view snapshot, the same for every offline store up to its dialect: the
 * relation `source` (the view's columns and `ts` over the good records passing its filter, in
 * `[D − window, D)`), the query over it, and the output cast to the declared types with the
 * snapshot time in `__snapshot`. DuckDB runs it locally, BigQuery in the warehouse.
 */
import type { ExprNode } from '../../definitions/expr/expr.ts';
import { BATCH_TS_COLUMN, type BatchViewSpec } from '../../definitions/batch/batch-view-spec.ts';
import { querySql } from '../../definitions/batch/portable-sql.ts';
import type { ValueType } from '../../core/types.ts';

/** Column of a snapshot table holding its snapshot time D (epoch ms). */
export const SNAPSHOT_COLUMN = '__snapshot';

export interface SnapshotDialect {
  ident: (name: string) => string;
  /** The dialect's type for a value type (BIGINT / INT64, ...). */
  type: (t: ValueType) => string;
  /** A record expression over the source table's columns. */
  render: (node: ExprNode) => string;
  /** Condition of a good record of the source table, or null when every row is good. */
  good: string | null;
}

/** The output columns of a view: its join keys (with their types), then its features. */
export interface SnapshotColumns {
  keys: { name: string; type: ValueType }[];
  features: { name: string; type: ValueType }[];
}

/** `SELECT <columns>, ts FROM <table> WHERE good AND filter`: the view's rows before windowing. */
export function relationSql(
  d: SnapshotDialect,
  view: BatchViewSpec,
  table: string,
  timestampField: string,
): string {
  const cols = Object.entries(view.columns).map(([n, e]) => `${d.render(e)} AS ${d.ident(n)}`);
  cols.push(`${d.ident(timestampField)} AS ${d.ident(BATCH_TS_COLUMN)}`);
  const where = [d.good, view.filter ? `(${d.render(view.filter)}) IS TRUE` : null].filter(
    (x): x is string => x !== null,
  );
  return `SELECT ${cols.join(', ')} FROM ${table}${where.length ? ` WHERE ${where.join(' AND ')}` : ''}`;
}

/**
 * The snapshot at D over `relation` (see {@link relationSql}): one row per entity with a non-null
 * key, `__snapshot` = D, keys and features cast to their declared types.
 */
export function snapshotSql(
  d: SnapshotDialect,
  view: BatchViewSpec,
  cols: SnapshotColumns,
  relation: string,
  snapshotMs: number,
): string {
  const out = [...cols.keys, ...cols.features].map(
    (c) => `CAST(__q.${d.ident(c.name)} AS ${d.type(c.type)}) AS ${d.ident(c.name)}`,
  );
  return (
    `${sourceCte(d, view, relation, snapshotMs)} ` +
    `SELECT CAST(${snapshotMs} AS ${d.type('int64')}) AS ${SNAPSHOT_COLUMN}, ${out.join(', ')} ` +
    `FROM (${querySql(view.query, snapshotMs)}) AS __q ` +
    `WHERE ${cols.keys.map((k) => `__q.${d.ident(k.name)} IS NOT NULL`).join(' AND ')}`
  );
}

/** The query at D as written (no casts): what the output check describes. */
export function rawQuerySql(
  d: SnapshotDialect,
  view: BatchViewSpec,
  relation: string,
  snapshotMs: number,
): string {
  return `${sourceCte(d, view, relation, snapshotMs)} SELECT * FROM (${querySql(view.query, snapshotMs)}) AS __q`;
}

/** `WITH source AS (...)`: the relation's rows in `[D − window, D)`. */
function sourceCte(
  d: SnapshotDialect,
  view: BatchViewSpec,
  relation: string,
  snapshotMs: number,
): string {
  const ts = d.ident(BATCH_TS_COLUMN);
  const lo = view.windowMs === null ? '' : `${ts} >= ${snapshotMs - view.windowMs} AND `;
  return `WITH source AS (SELECT * FROM (${relation}) AS __r WHERE ${lo}${ts} < ${snapshotMs})`;
}

/** The duplicate-key check of a snapshot table: rows of an entity seen twice (at most one). */
export function duplicateSql(d: SnapshotDialect, cols: SnapshotColumns, table: string): string {
  const keys = [SNAPSHOT_COLUMN, ...cols.keys.map((k) => k.name)].map(d.ident).join(', ');
  return `SELECT ${keys}, COUNT(*) AS n FROM ${table} GROUP BY ${keys} HAVING COUNT(*) > 1 LIMIT 1`;
}

/**
 * Materialization of sequence features in BigQuery: the pass's events of `[start, end)` (keys
 * `__k0 …`, `__ts`, `__id`) with each feature's `where` flag `__m<j>` (1 = holds) and compared
 * field `__v<j>`, read page by page and folded locally by `offline/sequence-tile-fold.ts` into
 * the aggregation library's sequence states — the states the DuckDB store, the stream worker
 * and push build.
 */
import type { FeatureSpec } from '../../../definitions/spec.ts';
import type { Pass } from '../../export/pass.ts';
import { bqIdent } from './bq-sql.ts';
import { S } from './pass-sql.ts';
import { renderBqExpr } from './render-expr.ts';

export function bqSequenceEventsSql(
  pass: Pass,
  features: readonly FeatureSpec[],
  start: number,
  end: number,
): string {
  const schema = pass.schema;
  const ts = `s.${bqIdent(pass.timestampField)}`;
  const cols = [
    ...pass.keys.map((k, i) => `CAST(${renderBqExpr(schema, k.expr, S)} AS STRING) AS __k${i}`),
    `${ts} AS __ts`,
    `CAST(s.${bqIdent(pass.idField)} AS STRING) AS __id`,
    ...features.flatMap((f, j) => [
      `IF(${f.where ? `(${renderBqExpr(schema, f.where, S)}) IS TRUE` : 'TRUE'}, 1, 0) AS __m${j}`,
      `${f.input ? renderBqExpr(schema, f.input, S) : 'CAST(NULL AS INT64)'} AS __v${j}`,
    ]),
  ];
  const conds = pass.keys.map((k) => `${renderBqExpr(schema, k.expr, S)} IS NOT NULL`);
  if (pass.filter) conds.push(`(${renderBqExpr(schema, pass.filter, S)}) IS TRUE`);
  conds.push(`${ts} >= ${start}`, `${ts} < ${end}`);
  return `SELECT ${cols.join(', ')} FROM ${pass.srcTable} AS s WHERE ${conds.join(' AND ')}`;
}

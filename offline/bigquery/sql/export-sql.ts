/**
 * The whole point-in-time query for BigQuery: every pass's CTEs over the uploaded entity rows,
 * joined back on `__rid`, ordered by it. Result columns: `rid`, then `c<i>` (BigQuery
 * reserves some `_`-prefixed names, so none are used in the output). count/sum of rows without events are 0, the rest null.
 *
 * @example
 * const { sql, columns } = bqExportSql(passes, '`proj.ds._larder_entities_x`');
 */
import type { Pass } from '../../export/pass.ts';
import { bqIdent } from './bq-sql.ts';
import { bqPassCtes } from './pass-sql.ts';

export interface BqExportQuery {
  sql: string;
  /** The pass columns (`pf.col`) of the result columns `c0, c1, …` after `rid`, in order. */
  columns: string[];
}

export function bqExportSql(passes: readonly Pass[], entTable: string): BqExportQuery {
  const ctes: string[] = [];
  const joins: string[] = [];
  const select: string[] = [];
  const columns: string[] = [];
  passes.forEach((pass, i) => {
    const r = bqPassCtes({ pass, prefix: `p${i}`, entTable });
    ctes.push(...r.ctes);
    for (const j of r.joins) {
      joins.push(`LEFT JOIN ${j.cte} ON ${j.cte}.__rid = e.__rid`);
      for (const pf of j.cols) {
        const c = `${j.cte}.${bqIdent(pf.col)}`;
        const kind = pf.feature.aggregation;
        select.push(
          `${kind === 'count' || kind === 'sum' ? `COALESCE(${c}, 0)` : c} AS c${columns.length}`,
        );
        columns.push(pf.col);
      }
    }
  });
  const sql =
    `WITH ${ctes.join(',\n')}\n` +
    `SELECT e.__rid AS rid${select.map((s) => `, ${s}`).join('')} FROM ${entTable} e ${joins.join(' ')} ORDER BY e.__rid`;
  return { sql, columns };
}

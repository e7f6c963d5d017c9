/**
 * The DuckDB SQL export engine (`engine: 'sql'`): every pass as DuckDB window functions over
 * the local source tables (`feature-pass.ts`), mode features as per-hop tiles joined by range.
 * Slower than the sweep; kept as an independent check of it.
 */
import {
  passValueSql,
  type ExportJob,
  type SqlExportEngine,
  type SqlFeatureValues,
} from '../../export/export-engine.ts';
import { ident } from '../../local/duckdb-client.ts';
import { DuckDBSourcesEngine } from '../duckdb-sources.ts';
import { modeSql, sequenceSql, windowPassSql } from './feature-pass.ts';
import { isSequenceKind } from '../../../core/sequence.ts';

export class DuckDBSqlEngine extends DuckDBSourcesEngine implements SqlExportEngine {
  readonly name = 'sql';
  readonly output = 'sql';

  async aggregate(job: ExportJob): Promise<SqlFeatureValues> {
    const { client, name } = job;
    const joins: string[] = [];
    const valueOf = new Map<string, string>();
    for (const pass of job.passes) {
      const t = name('pass');
      const sql = windowPassSql(pass, t, job.entTable);
      if (sql) {
        await client.run(sql);
        joins.push(`LEFT JOIN ${t} ON ${t}.__rid = e.__rid`);
      }
      for (const pf of pass.features) {
        if (pf.feature.aggregation === 'mode') {
          const m = name('mode');
          await client.run(modeSql(pass, pf, m, job.entTable));
          joins.push(`LEFT JOIN ${m} ON ${m}.__rid = e.__rid`);
          valueOf.set(pf.col, `${m}.${ident(pf.col)}`);
        } else if (isSequenceKind(pf.feature.aggregation)) {
          const q = name('seq');
          await client.run(sequenceSql(pass, pf, q, job.entTable));
          joins.push(`LEFT JOIN ${q} ON ${q}.__rid = e.__rid`);
          valueOf.set(pf.col, passValueSql(pf, `${q}.${ident(pf.col)}`));
        } else valueOf.set(pf.col, passValueSql(pf, `${t}.${ident(pf.col)}`));
      }
    }
    return { joins, valueOf };
  }
}

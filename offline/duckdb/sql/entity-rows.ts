/** SQL for entity rows: read the file, number the rows, parse `event_timestamp` into `__t` (ms). */
import { extname } from 'node:path';
import { LarderError } from '../../../registry/errors.ts';
import { ident, sqlString } from '../duckdb-client.ts';

export const TIMESTAMP_COLUMN = 'event_timestamp';

/** The table function reading an entity file, with `varchar` columns forced to VARCHAR (CSV). */
export function entityReader(path: string, varchar: readonly string[] = []): string {
  const ext = extname(path).toLowerCase();
  const p = sqlString(path);
  if (ext === '.csv' || ext === '.tsv') {
    const types = varchar.length
      ? `, types = {${varchar.map((c) => `${sqlString(c)}: 'VARCHAR'`).join(', ')}}`
      : '';
    return `read_csv(${p}, header = true${types})`;
  }
  if (ext === '.jsonl' || ext === '.json' || ext === '.ndjson')
    return `read_json(${p}, format = 'newline_delimited')`;
  if (ext === '.parquet') return `read_parquet(${p})`;
  throw new LarderError('LARDER_BAD_REQUEST', `cannot read entity rows from "${path}"`, {
    hint: 'use a .csv, .jsonl or .parquet file',
  });
}

/** `__t` from an `event_timestamp` column of DuckDB type `type`: epoch ms or ISO-8601. */
export function timestampExpr(type: string): string {
  const c = ident(TIMESTAMP_COLUMN);
  const t = type.toUpperCase();
  if (/^(BIGINT|INTEGER|SMALLINT|TINYINT|UBIGINT|UINTEGER|HUGEINT|USMALLINT|UTINYINT)$/.test(t))
    return `CAST(${c} AS BIGINT)`;
  if (/^(DOUBLE|FLOAT|DECIMAL.*)$/.test(t)) return `CAST(${c} AS BIGINT)`;
  if (t.startsWith('TIMESTAMP') || t === 'DATE') return `epoch_ms(CAST(${c} AS TIMESTAMPTZ))`;
  return `COALESCE(TRY_CAST(${c} AS BIGINT), epoch_ms(TRY_CAST(${c} AS TIMESTAMPTZ)))`;
}

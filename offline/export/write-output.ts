/**
 * The last step of an export: the rows of a local SQL query (entity columns, then features, in
 * entity-row order) written as Parquet (zstd), CSV, JSON Lines or Arrow, or read into memory.
 */
import { isListType } from '../../core/types.ts';
import { ident, sqlString, type DuckDBClient } from '../local/duckdb-client.ts';
import type { ExportColumn, OutputFormat } from '../offline-store.ts';
import { writeArrow, type ArrowKind } from './write-arrow.ts';

/**
 * Writes the result of `sql` at `path` in `format`; `entTypes` are the DuckDB types of the
 * entity columns (Arrow needs them), `onRows` hears the rows written (Arrow only, then once
 * with `total`).
 */
export async function writeOutput(
  client: DuckDBClient,
  sql: string,
  path: string,
  format: OutputFormat,
  columns: ExportColumn[],
  entTypes: { name: string; type: string }[],
  total: number,
  onRows: (n: number) => void,
): Promise<void> {
  const p = sqlString(path);
  switch (format) {
    case 'parquet':
      await client.run(`COPY (${sql}) TO ${p} (FORMAT parquet, COMPRESSION zstd)`);
      break;
    case 'csv': {
      // A list column is written as a JSON array (`["p3","p1"]`), not DuckDB's `[p3, p1]`.
      const lists = columns.filter((c) => c.type !== 'entity' && isListType(c.type));
      const select =
        lists.length === 0
          ? sql
          : `SELECT * REPLACE (${lists.map((c) => `CAST(to_json(${ident(c.name)}) AS VARCHAR) AS ${ident(c.name)}`).join(', ')}) FROM (${sql})`;
      await client.run(`COPY (${select}) TO ${p} (FORMAT csv, HEADER true)`);
      break;
    }
    case 'jsonl':
      await client.run(`COPY (${sql}) TO ${p} (FORMAT json)`);
      break;
    case 'arrow': {
      const kinds: ArrowKind[] = columns.map((c) =>
        c.type === 'entity' ? arrowKindOf(entTypes.find((e) => e.name === c.name)!.type) : c.type,
      );
      let done = 0;
      const chunks = async function* (): AsyncGenerator<unknown[][]> {
        for await (const chunk of client.stream(sql)) {
          done += chunk.size;
          onRows(done);
          yield chunk.columns;
        }
      };
      await writeArrow(
        path,
        columns.map((c) => c.name),
        kinds,
        chunks(),
      );
      break;
    }
  }
  onRows(total);
}

/** The rows of `sql` as objects (in-memory output, for tests): int64 as numbers. */
export async function readRows(
  client: DuckDBClient,
  sql: string,
): Promise<Record<string, never>[]> {
  const data: Record<string, never>[] = [];
  for await (const chunk of client.stream(sql)) {
    for (let r = 0; r < chunk.size; r++) {
      const o: Record<string, unknown> = {};
      chunk.names.forEach((name, i) => (o[name] = chunk.columns[i]![r]));
      data.push(o as Record<string, never>);
    }
  }
  return data;
}

function arrowKindOf(duckType: string): ArrowKind {
  const t = duckType.toUpperCase();
  if (/^(BIGINT|INTEGER|SMALLINT|TINYINT|UBIGINT|UINTEGER|USMALLINT|UTINYINT|HUGEINT)$/.test(t))
    return 'int64';
  if (/^(DOUBLE|FLOAT|DECIMAL.*)$/.test(t)) return 'float64';
  if (t === 'BOOLEAN') return 'bool';
  return 'string';
}

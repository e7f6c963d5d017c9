/**
 * Appending feature columns to a Parquet file DuckDB wrote (offline/duckdb/parquet/): the Thrift
 * compact codec re-encodes DuckDB's footer byte for byte, and after the append one scan of the
 * file returns DuckDB's columns and the new ones, row for row in order, across row groups,
 * with NaN as NaN (NULL through `nullif`) and 0-row files handled.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendDoubleColumns } from '../../offline/duckdb/parquet/double-columns.ts';
import { decodeStruct, encodeStruct } from '../../offline/duckdb/parquet/thrift-compact.ts';
import { tempDir } from '../support/temp-repo.ts';

let tmp: { dir: string; cleanup: () => void };
let conn: DuckDBConnection;
let close: () => void;

beforeAll(async () => {
  tmp = tempDir();
  const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
  conn = await instance.connect();
  close = () => {
    conn.closeSync();
    instance.closeSync();
  };
});
afterAll(() => {
  close();
  tmp.cleanup();
});

/** DuckDB writes `rows` rows (id, a string, a nullable label) with small row groups. */
async function duckFile(name: string, rows: number): Promise<string> {
  const path = join(tmp.dir, name);
  await conn.run(
    `COPY (SELECT i AS id, 'u' || (i % 97) AS user_id, CASE WHEN i % 3 = 0 THEN NULL ELSE i / 2 END AS label FROM range(${rows}) t(i) ORDER BY i) ` +
      `TO '${path}' (FORMAT parquet, ROW_GROUP_SIZE 2048)`,
  );
  return path;
}

function footer(path: string): Uint8Array {
  const b = readFileSync(path);
  const len = b.readInt32LE(b.length - 8);
  return new Uint8Array(b.subarray(b.length - 8 - len, b.length - 8));
}

describe('appendDoubleColumns', () => {
  it('round-trips a DuckDB footer through the Thrift compact codec', async () => {
    const bytes = footer(await duckFile('codec.parquet', 10_000));
    const [meta, end] = decodeStruct(bytes);
    expect(end).toBe(bytes.length);
    expect(encodeStruct(meta)).toEqual(bytes);
  });

  it('adds columns a scan reads in row order, across row groups', async () => {
    const rows = 10_000;
    const path = await duckFile('append.parquet', rows);
    const x = Float64Array.from({ length: rows }, (_, i) => (i % 7 === 0 ? NaN : i * 1.5));
    const y = Float64Array.from({ length: rows }, (_, i) => -i);
    appendDoubleColumns(path, [
      { name: 'x', values: x },
      { name: 'y', values: y },
    ]);
    const reader = await conn.runAndReadAll(
      `SELECT id, user_id, label, nullif(x, 'NaN'::DOUBLE) AS x, y FROM read_parquet('${path}')`,
    );
    const got = reader.getRowObjectsJS();
    expect(got).toHaveLength(rows);
    got.forEach((r, i) => {
      expect(Number(r.id)).toBe(i);
      expect(r.user_id).toBe(`u${i % 97}`);
      expect(r.label === null ? null : Number(r.label)).toBe(i % 3 === 0 ? null : i / 2);
      expect(r.x).toBe(i % 7 === 0 ? null : i * 1.5);
      expect(r.y).toBe(-i);
    });
    const groups = await conn.runAndReadAll(
      `SELECT count(DISTINCT row_group_id) AS n FROM parquet_metadata('${path}')`,
    );
    expect(Number(groups.getRowObjectsJS()[0]!.n)).toBeGreaterThan(1);
  });

  it('handles a file without rows, and refuses a column of the wrong length', async () => {
    const empty = await duckFile('empty.parquet', 0);
    appendDoubleColumns(empty, [{ name: 'x', values: new Float64Array(0) }]);
    const reader = await conn.runAndReadAll(`SELECT id, x FROM read_parquet('${empty}')`);
    expect(reader.getRowObjectsJS()).toEqual([]);
    expect(reader.columnNames()).toEqual(['id', 'x']);
    const small = await duckFile('small.parquet', 5);
    expect(() => appendDoubleColumns(small, [{ name: 'x', values: new Float64Array(4) }])).toThrow(
      /4 values, the file 5 rows/,
    );
  });
});

/**
 * A source schema's zod checks on Parquet files (typed columns, `typedReason`): the reasons the
 * JS validator gives the same records as JSON (test/offline/validation-differential.test.ts
 * compares the JSON Lines paths).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { describeZod, type RecordType } from '../../definitions/record-schema.ts';
import { readSourceSql } from '../../offline/duckdb/sql/read-source.ts';
import { DuckDBClient } from '../../offline/local/duckdb-client.ts';
import { recordProblem } from '../../offline/validate-record.ts';
import { tempDir } from '../support/temp-repo.ts';

const SCHEMA = describeZod(
  z.object({
    id: z.string().min(1),
    q: z.number().int().nonnegative(),
    s: z.number().finite(),
    a: z.array(z.object({ p: z.string().max(2) })).min(1),
  }),
) as RecordType;

let db: DuckDBClient;
let tmp: { dir: string; cleanup: () => void };
beforeAll(async () => {
  db = await DuckDBClient.open({ threads: '1' });
  tmp = tempDir();
});
afterAll(() => tmp?.cleanup());

it('refuses a Parquet row breaking a check, with the JS validator’s reason', async () => {
  const path = join(tmp.dir, 'c.parquet');
  const records = [
    { id: 'a', q: 1, s: 1.5, a: [{ p: 'x' }] },
    { id: '', q: 1, s: 1.5, a: [{ p: 'x' }] },
    { id: 'a', q: -1, s: 1.5, a: [{ p: 'x' }] },
    { id: 'a', q: 1, s: Infinity, a: [{ p: 'x' }] },
    { id: 'a', q: 1, s: 1.5, a: [] },
    { id: 'a', q: 1, s: 1.5, a: [{ p: 'xyz' }] },
  ];
  const row = (r: (typeof records)[number]): string =>
    `(${[
      `'${r.id}'`,
      `${r.q}::BIGINT`,
      `'${r.s}'::DOUBLE`,
      `[${r.a.map((x) => `{'p': '${x.p}'}`).join(', ')}]::STRUCT(p VARCHAR)[]`,
    ].join(', ')})`;
  await db.all(
    `COPY (SELECT * FROM (VALUES ${records.map(row).join(', ')}) t(id, q, s, a)) TO '${path}' (FORMAT parquet)`,
  );
  const sql = readSourceSql(SCHEMA, Object.keys(SCHEMA.fields), { jsonl: [], parquet: [path] });
  const rows = await db.all(`SELECT __line, __reason FROM (${sql}) ORDER BY __line`);
  expect(rows.map((r) => r.__reason)).toEqual([
    null,
    'field "id": string shorter than 1',
    'field "q": number less than 0',
    'field "s": number not finite',
    'field "a": array with fewer than 1 items',
    'field "a[].p": string longer than 2',
  ]);
  expect(rows.map((r) => r.__reason)).toEqual(records.map((r) => recordProblem(SCHEMA, r)));
});

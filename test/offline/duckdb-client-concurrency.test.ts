/**
 * What a first export's overlap rests on in the DuckDB client: a sibling connection (its own
 * statements alongside the first's, with the first's session settings; closing it leaves the
 * database open), `streamRaw` and `stream` reading one chunk ahead (every row in order, each
 * chunk's arrays intact while it is current; a caller stopping early leaves the connection
 * usable), and the JSON Lines cache validating several files two at a time, each entry holding
 * its own file's rows.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { cachedJsonl } from '../../offline/duckdb/jsonl-cache.ts';
import { readSourceSql } from '../../offline/duckdb/sql/read-source.ts';
import { DuckDBClient, sqlString } from '../../offline/local/duckdb-client.ts';
import { describeZod, type RecordType } from '../../definitions/record-schema.ts';
import { tempDir } from '../support/temp-repo.ts';

const tmp = tempDir();
let client: DuckDBClient;
beforeAll(async () => {
  client = await DuckDBClient.open({ threads: '2' });
  await client.run(`SET TimeZone = 'America/New_York'`);
  await client.run('SET enable_progress_bar = true');
  await client.run('SET enable_progress_bar_print = false');
});
afterAll(() => {
  client.close();
  tmp.cleanup();
});

const setting = async (c: DuckDBClient, name: string): Promise<unknown> =>
  (await c.all(`SELECT current_setting(${sqlString(name)})::VARCHAR AS v`))[0]!.v;

describe('a sibling connection', () => {
  it("has the first one's session settings, runs alongside it, and closes alone", async () => {
    const sibling = await client.sibling();
    try {
      expect(await setting(sibling, 'TimeZone')).toBe('America/New_York');
      expect(await setting(sibling, 'enable_progress_bar')).toBe('true');
      expect(await setting(sibling, 'enable_progress_bar_print')).toBe('false');
      const count = (c: DuckDBClient) =>
        c.all(`SELECT count(*) AS n FROM range(3000000) t(i) WHERE hash(i) % 7 = 0`);
      const [a, b] = await Promise.all([count(client), count(sibling)]);
      expect(a).toEqual(b);
      expect(Number(a![0]!.n)).toBeGreaterThan(0);
    } finally {
      sibling.close();
    }
    expect(await client.all('SELECT 42 AS n')).toEqual([{ n: 42 }]);
  });
});

describe('streamRaw one chunk ahead', () => {
  it('reads every row in order, each chunk intact while it is current', async () => {
    const seen: number[] = [];
    let chunks = 0;
    let wrong = 0;
    for await (const chunk of client.streamRaw(
      `SELECT i::INTEGER AS i, (i * 2)::DOUBLE AS d FROM range(100000) t(i) ORDER BY i`,
    )) {
      chunks++;
      const i = chunk.numbers(0);
      const d = chunk.numbers(1);
      for (let r = 0; r < chunk.size; r++) {
        if (d[r] !== i[r]! * 2) wrong++;
        seen.push(i[r]!);
      }
    }
    expect(chunks).toBeGreaterThan(1);
    expect(wrong).toBe(0);
    expect(seen).toEqual(Array.from({ length: 100000 }, (_, i) => i));
  });

  it('leaves the connection usable when the caller stops early', async () => {
    for await (const chunk of client.streamRaw(`SELECT i FROM range(100000) t(i) ORDER BY i`)) {
      expect(chunk.size).toBeGreaterThan(0);
      break;
    }
    expect(await client.all('SELECT 7 AS n')).toEqual([{ n: 7 }]);
  });
});

describe('stream one chunk ahead', () => {
  it('reads every row in order with its values, the cell reader of streamRaw alike', async () => {
    const sql = `SELECT i, 'k' || i AS s, CASE WHEN i % 3 = 0 THEN NULL ELSE i * 0.5 END::DOUBLE AS d FROM range(20000) t(i) ORDER BY i`;
    const rows: unknown[][] = [];
    let chunks = 0;
    for await (const chunk of client.stream(sql)) {
      chunks++;
      for (let r = 0; r < chunk.size; r++) rows.push(chunk.columns.map((c) => c[r]));
    }
    const cells: unknown[][] = [];
    for await (const chunk of client.streamRaw(sql))
      for (let r = 0; r < chunk.size; r++) cells.push([0, 1, 2].map((i) => chunk.value(i, r)));
    expect(chunks).toBeGreaterThan(1);
    const want = (i: number): unknown[] => [i, `k${i}`, i % 3 === 0 ? null : i * 0.5];
    const differ = (got: unknown[][]): number =>
      got.filter((row, i) => row.some((v, c) => v !== want(i)[c])).length;
    expect([rows.length, differ(rows)]).toEqual([20000, 0]);
    expect([cells.length, differ(cells)]).toEqual([20000, 0]);
  });

  it('leaves the connection usable when the caller stops early', async () => {
    for await (const chunk of client.stream(`SELECT i FROM range(100000) t(i) ORDER BY i`)) {
      expect(chunk.size).toBeGreaterThan(0);
      break;
    }
    expect(await client.all('SELECT 8 AS n')).toEqual([{ n: 8 }]);
  });
});

const SCHEMA = describeZod(
  z.object({ id: z.string(), ts: z.number().int(), kind: z.enum(['a', 'b']) }),
) as RecordType;

describe('the JSON Lines cache, two files at a time', () => {
  it("holds each file's own rows and reasons in its entry", async () => {
    const files = [4000, 1000, 2500, 0, 3000].map((n, f) => {
      const path = join(tmp.dir, `part-${f}.jsonl`);
      const lines = Array.from({ length: n }, (_, i) =>
        i % 211 === 0
          ? JSON.stringify({ id: `e${f}-${i}`, ts: String(i), kind: 'a' })
          : JSON.stringify({ id: `e${f}-${i}`, ts: i, kind: i % 13 ? 'a' : 'x' }),
      );
      writeFileSync(path, lines.join('\n') + (n ? '\n' : ''));
      return path;
    });
    const entries = await cachedJsonl(client, join(tmp.dir, 'cache'), SCHEMA, files);
    const rows = async (sql: string): Promise<string[]> =>
      (
        await client.all(
          `SELECT to_json(struct_pack(__file, id, ts, kind, __reason))::VARCHAR AS r FROM (${sql})`,
        )
      )
        .map((r) => String(r.r))
        .sort();
    for (const [i, file] of files.entries()) {
      const expected = await rows(
        readSourceSql(SCHEMA, Object.keys(SCHEMA.fields), { jsonl: [file], parquet: [] }),
      );
      expect(await rows(`SELECT * FROM read_parquet(${sqlString(entries[i]!)})`)).toEqual(expected);
    }
    expect(await setting(client, 'preserve_insertion_order')).toBe('true');
  });
});

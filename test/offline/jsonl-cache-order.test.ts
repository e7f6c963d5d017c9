/**
 * The JSON Lines cache writes each entry without keeping the lines' order
 * (`preserve_insertion_order` off for its `COPY`): the entry holds the same rows as validating
 * the file in order, and the connection's setting is what it was before, also when the file is
 * read rewritten (a byte that is not UTF-8).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { cachedJsonl } from '../../offline/duckdb/jsonl-cache.ts';
import { readSourceSql } from '../../offline/duckdb/sql/read-source.ts';
import { DuckDBClient, sqlString } from '../../offline/local/duckdb-client.ts';
import { describeZod, type RecordType } from '../../definitions/record-schema.ts';
import { tempDir } from '../support/temp-repo.ts';

const SCHEMA = describeZod(
  z.object({
    id: z.string(),
    ts: z.number().int(),
    kind: z.enum(['a', 'b']),
    tags: z.record(z.string(), z.string()),
  }),
) as RecordType;
const FIELDS = Object.keys(SCHEMA.fields);
const ROWS = `id, ts, kind, tags, __reason`;

const tmp = tempDir();
afterAll(() => tmp.cleanup());

/** 30k lines: good records, bad kinds, wrong types, blank lines. */
function lines(prefix: string): string[] {
  return Array.from({ length: 30000 }, (_, i) =>
    i % 97 === 0
      ? ''
      : i % 31 === 0
        ? JSON.stringify({ id: `${prefix}${i}`, ts: String(i), kind: 'a', tags: {} })
        : JSON.stringify({
            id: `${prefix}${i}`,
            ts: i,
            kind: i % 7 ? 'a' : 'x',
            tags: { k: `${i % 5}` },
          }),
  );
}

async function setting(client: DuckDBClient): Promise<boolean> {
  const [r] = await client.all(`SELECT current_setting('preserve_insertion_order') AS v`);
  return r!.v as boolean;
}

/** The rows of `sql` as sorted JSON text (order-free comparison). */
async function rows(client: DuckDBClient, sql: string): Promise<string[]> {
  const out = await client.all(`SELECT to_json(struct_pack(${ROWS}))::VARCHAR AS r FROM (${sql})`);
  return out.map((r) => String(r.r)).sort();
}

describe('the JSON Lines cache without the lines order', () => {
  for (const preserve of [true, false]) {
    it(`holds the rows of an ordered validation; preserve_insertion_order stays ${preserve}`, async () => {
      const client = await DuckDBClient.open({
        threads: '2',
        preserve_insertion_order: String(preserve),
      });
      try {
        const file = join(tmp.dir, `plain-${preserve}.jsonl`);
        writeFileSync(file, lines('e').join('\n') + '\n');
        // A byte that is not UTF-8: DuckDB's line reader refuses the file, which is rewritten.
        const broken = join(tmp.dir, `broken-${preserve}.jsonl`);
        const text = Buffer.from(lines('b').join('\n') + '\n');
        writeFileSync(broken, Buffer.concat([text, Buffer.from([0xff, 0x0a]), text]));
        const cacheDir = join(tmp.dir, `cache-${preserve}`);
        const entries = await cachedJsonl(client, cacheDir, SCHEMA, [file, broken]);
        expect(await setting(client)).toBe(preserve);
        await client.run('SET preserve_insertion_order = true');
        const plain = await rows(client, `SELECT * FROM read_parquet(${sqlString(entries[0]!)})`);
        const expected = await rows(
          client,
          readSourceSql(SCHEMA, FIELDS, { jsonl: [file], parquet: [] }),
        );
        expect(plain).toEqual(expected);
        expect(plain.length).toBe(30000 - Math.ceil(30000 / 97));
        expect(plain.filter((r) => r.includes('"__reason":null')).length).toBeLessThan(
          plain.length,
        );
        const [bad] = await client.all(
          `SELECT count(*) AS n, count(__reason) AS rejects, count(DISTINCT __file) AS files FROM read_parquet(${sqlString(entries[1]!)})`,
        );
        // Both copies of the lines and the one replaced byte (a line of its own: U+FFFD).
        expect(Number(bad!.n)).toBe(2 * plain.length + 1);
        expect(Number(bad!.rejects)).toBe(
          2 * plain.filter((r) => !r.includes('"__reason":null')).length + 1,
        );
        expect(Number(bad!.files)).toBe(1);
      } finally {
        client.close();
      }
    });
  }
});

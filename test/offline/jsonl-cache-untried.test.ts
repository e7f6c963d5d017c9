/**
 * The JSON Lines cache first validates a file with DuckDB's typed parse outside `TRY`
 * (`readSourceSql(..., { untried: true })`, cheaper), which fails on a line that is not JSON, and
 * then validates it as before: an entry holds the same rows (values and reasons) either way, for
 * a clean file, a file with lines that are not JSON, and a file DuckDB's line reader refuses.
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

const SCHEMA = describeZod(
  z.object({
    id: z.string(),
    ts: z.number().int(),
    kind: z.enum(['a', 'b']),
    tags: z.record(z.string(), z.string()),
    ctx: z.object({ ip: z.string(), ref: z.string().nullable() }),
  }),
) as RecordType;
const FIELDS = Object.keys(SCHEMA.fields);
const ROWS = `__file, id, ts, kind, tags, ctx, __reason`;

const tmp = tempDir();
let client: DuckDBClient;
beforeAll(async () => {
  client = await DuckDBClient.open({ threads: '2' });
});
afterAll(() => {
  client.close();
  tmp.cleanup();
});

/** 5k good records (some written with spaces or `"ts": "1"`), and every 500th line `bad`. */
function lines(bad: string | null): string {
  return (
    Array.from({ length: 5000 }, (_, i) => {
      if (bad !== null && i % 500 === 250) return bad;
      const rec = {
        id: `e${i}`,
        ts: i % 41 === 0 ? String(i) : i,
        kind: i % 13 ? 'a' : 'x',
        tags: { k: `${i % 5}` },
        ctx: { ip: `10.0.0.${i % 7}`, ref: i % 3 ? null : 'r' },
      };
      return JSON.stringify(rec, null, i % 17 === 0 ? 1 : undefined).replaceAll('\n', '');
    }).join('\n') + '\n'
  );
}

/** The rows of `sql` as sorted JSON text (order-free comparison). */
async function rows(sql: string): Promise<string[]> {
  const out = await client.all(`SELECT to_json(struct_pack(${ROWS}))::VARCHAR AS r FROM (${sql})`);
  return out.map((r) => String(r.r)).sort();
}

const read = (file: string, untried = false): string =>
  readSourceSql(SCHEMA, FIELDS, { jsonl: [file], parquet: [] }, { untried });

describe('the JSON Lines cache validating first without TRY', () => {
  it('reads the same rows untried as tried from a file whose every line is JSON', async () => {
    const file = join(tmp.dir, 'clean.jsonl');
    writeFileSync(file, lines('[1, 2]'));
    const tried = await rows(read(file));
    expect(tried).toHaveLength(5000);
    expect(tried.filter((r) => r.includes('"__reason":null'))).not.toHaveLength(5000);
    expect(await rows(read(file, true))).toEqual(tried);
    const [entry] = await cachedJsonl(client, join(tmp.dir, 'cache-clean'), SCHEMA, [file]);
    expect(await rows(`SELECT * FROM read_parquet(${sqlString(entry!)})`)).toEqual(tried);
  });

  it('fails untried on a line that is not JSON; the entry holds the tried rows', async () => {
    const file = join(tmp.dir, 'invalid.jsonl');
    writeFileSync(file, lines('{"id": "x", "ts": 1'));
    await expect(
      client.all(`SELECT count(__reason), count(id) FROM (${read(file, true)})`),
    ).rejects.toThrow(/Malformed JSON/);
    const tried = await rows(read(file));
    expect(tried.filter((r) => r.includes('"__reason":"invalid JSON"'))).toHaveLength(10);
    const [entry] = await cachedJsonl(client, join(tmp.dir, 'cache-invalid'), SCHEMA, [file]);
    expect(await rows(`SELECT * FROM read_parquet(${sqlString(entry!)})`)).toEqual(tried);
  });

  it('holds the tried rows of a file read rewritten (a byte that is not UTF-8)', async () => {
    const good = join(tmp.dir, 'good.jsonl');
    writeFileSync(good, lines('not json'));
    const broken = join(tmp.dir, 'broken.jsonl');
    writeFileSync(
      broken,
      Buffer.concat([Buffer.from(lines('not json')), Buffer.from([0xff, 0x0a])]),
    );
    const [entry] = await cachedJsonl(client, join(tmp.dir, 'cache-broken'), SCHEMA, [broken]);
    const cached = await rows(`SELECT * FROM read_parquet(${sqlString(entry!)})`);
    // The lines as validated from a file without the bad byte, under the broken file's name,
    // and the bad byte's line (U+FFFD after the rewrite: not JSON).
    const expected = await rows(
      `SELECT * REPLACE (${sqlString(broken)} AS __file) FROM (${read(good)}) UNION ALL BY NAME ` +
        `SELECT ${sqlString(broken)} AS __file, 'invalid JSON' AS __reason`,
    );
    expect(cached).toEqual(expected);
    expect(cached.filter((r) => r.includes('"__reason":"invalid JSON"'))).toHaveLength(11);
  });
});

/**
 * Strings come back from the local DuckDB exactly as they went in. @duckdb/node-api decodes
 * VARCHARs with a default `TextDecoder`, which drops a leading byte-order mark (U+FEFF): an
 * entity key "\ufeffu1" came back as "u1", so materialization wrote its tiles under another
 * key and online reads found nothing (found by the fuzzer's key pool, session 14).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBClient } from '../../offline/local/duckdb-client.ts';

describe('DuckDB client strings', () => {
  let client: DuckDBClient;
  beforeAll(async () => {
    client = await DuckDBClient.open({});
    await client.run(
      `CREATE TABLE t AS SELECT * FROM (VALUES (chr(65279) || 'u1'), (chr(65279)), ('a' || chr(65279)), (chr(65279) || chr(65279) || 'x')) v(k)`,
    );
  });
  afterAll(() => client?.close());

  const want = ['\ufeffu1', '\ufeff', 'a\ufeff', '\ufeff\ufeffx'];

  it('keep a leading byte-order mark: all, stream and streamRaw', async () => {
    expect((await client.all('SELECT k FROM t')).map((r) => r.k)).toEqual(want);
    const streamed: unknown[] = [];
    for await (const chunk of client.stream('SELECT k FROM t')) streamed.push(...chunk.columns[0]!);
    expect(streamed).toEqual(want);
    const raw: unknown[] = [];
    for await (const chunk of client.streamRaw('SELECT k FROM t'))
      for (let r = 0; r < chunk.size; r++) raw.push(chunk.text(0, r));
    expect(raw).toEqual(want);
  });

  it('streamRaw sameText: true exactly for equal non-null strings of at most 12 bytes', async () => {
    // Adjacent pairs: equal and unequal, short (inline in DuckDB's entry) and long, multi-byte,
    // empty, null, and a BIGINT column (never known equal).
    const texts = [
      'u1',
      'u1',
      'u2',
      '',
      '',
      'abcdefghijkl',
      'abcdefghijkl',
      'abcdefghijklm',
      'abcdefghijklm',
      'é€',
      'é€',
      'é€x',
      null,
      null,
      'u1',
      '\ufeffu1',
      '\ufeffu1',
      'abcdefghijkL',
      'abcdefghijkl',
    ];
    const values = texts
      .map((t, i) => `(${i}, ${t === null ? 'NULL' : `'${t}'`}, ${i % 3})`)
      .join(', ');
    const checked: [string | null, string | null, boolean][] = [];
    for await (const chunk of client.streamRaw(
      `SELECT k, n FROM (VALUES ${values}) v(i, k, n) ORDER BY i`,
    )) {
      for (let r = 1; r < chunk.size; r++) {
        const [a, b] = [chunk.text(0, r - 1), chunk.text(0, r)];
        const same = chunk.sameText(0, r - 1, r);
        checked.push([a, b, same]);
        // Never wrong: "same" only for equal texts, and equal short non-null texts are found.
        const short = a !== null && Buffer.byteLength(a) <= 12;
        expect(same).toBe(a !== null && a === b && short);
        expect(chunk.sameText(1, r - 1, r)).toBe(false);
      }
    }
    expect(checked).toHaveLength(texts.length - 1);
    expect(checked.filter(([, , same]) => same)).toHaveLength(5);
  });
});

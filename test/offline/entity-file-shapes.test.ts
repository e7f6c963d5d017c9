/**
 * Entity files (`larder export --entities`) in shapes nobody designed: JSON Lines lines that are
 * JSON but not objects, an empty file, a byte-order mark, join keys written as objects, arrays or
 * a mix of JSON types, timestamps beyond any time, a CSV header naming a column twice. Each is
 * read as its format says or refused with one line naming the file, the line or row, what is
 * wrong and how to fix it — never read as something else, never a raw DuckDB error. The entity
 * rows are loaded once for every engine (`offline/export/entity-rows.ts`): the DuckDB store's
 * default engine runs them.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRepository } from '../../definitions/load.ts';
import type { Repository } from '../../definitions/repository.ts';
import type { TimestampUnit } from '../../offline/offline-store.ts';
import { tempDir, tempRepo } from '../support/temp-repo.ts';
import { CONFORMANCE_REPO } from './conformance-repo.ts';
import { duckdbHarness } from './duckdb-harness.ts';

const T0 = Date.UTC(2024, 0, 1);
const AT = '2024-01-01T00:10:00Z';

describe('entity files in undesigned shapes', () => {
  let h: ReturnType<typeof duckdbHarness>;
  let repo: Repository;
  let repoDir: { dir: string; cleanup: () => void };
  let tmp: { dir: string; cleanup: () => void };

  beforeAll(async () => {
    repoDir = tempRepo({ 'repo.ts': CONFORMANCE_REPO });
    repo = await loadRepository(repoDir.dir);
    tmp = tempDir();
    h = duckdbHarness();
    await h.store.init();
    const ev = (id: string, userId: string, amount: number): string =>
      JSON.stringify({ id, userId, kind: 'view', amount, attrs: {}, ts: T0 });
    await h.writeSource(repo.batchSources.get('ev')!.spec, [
      ev('e1', 'u1', 4),
      ev('e2', '1', 5),
      ev('e3', 'true', 6),
    ]);
  }, 60_000);

  afterAll(async () => {
    await h?.close();
    repoDir?.cleanup();
    tmp?.cleanup();
  });

  const file = (name: string, text: string | Buffer): string => {
    const path = join(tmp.dir, name);
    writeFileSync(path, text);
    return path;
  };

  /** `[user_id, sum_1h]` of each exported row, or the error. */
  async function run(
    path: string,
    extra: { timestampUnit?: TimestampUnit } = {},
  ): Promise<unknown[][]> {
    const got = await h.store.exportPointInTime({
      repo,
      features: repo.resolveFeatures({ features: ['stats:sum_1h'] }),
      entities: { type: 'file', path, ...extra },
      out: { type: 'memory' },
    });
    return got.data!.map((r) => [r.user_id, r.sum_1h]);
  }

  const row = (userId: unknown, ts: unknown = AT): string =>
    JSON.stringify({ user_id: userId, event_timestamp: ts });

  it('a JSON Lines line that is JSON but not an object is named as such: array, number, string, null', async () => {
    const cases: [string, string][] = [
      ['arrays.jsonl', `["u1","${AT}"]\n`],
      ['array.jsonl', `${row('u1')}\n["u1","${AT}"]\n`],
      ['objects-in-array.jsonl', `[${row('u1')}]\n`],
      ['number.jsonl', `${row('u1')}\n42\n`],
      ['string.jsonl', `${row('u1')}\n"u1"\n`],
      ['null.jsonl', `${row('u1')}\n\nnull\n`],
    ];
    for (const [name, text] of cases) {
      const line = text.split('\n').findIndex((l) => l !== '' && !l.startsWith('{')) + 1;
      const err = await run(file(name, text)).catch((e: unknown) => e);
      expect(err, name).toMatchObject({
        code: 'LARDER_BAD_REQUEST',
        detail: { reason: 'malformed_file' },
        message: expect.stringMatching(
          new RegExp(
            `^entity file .*${name.replace('.', '\\.')}: 1 line is not a JSON object: line ${line} \\(not an object\\): [^\\n]*$`,
          ),
        ),
      });
    }
  });

  it('an empty JSON Lines file is no entity rows, as a CSV file of only a header is', async () => {
    expect(await run(file('empty.jsonl', ''))).toEqual([]);
    expect(await run(file('blank.jsonl', '\n\n'))).toEqual([]);
    expect(await run(file('header.csv', 'user_id,event_timestamp\n'))).toEqual([]);
  });

  it('a byte-order mark starts a JSON Lines file as it does a CSV file: not part of line 1', async () => {
    expect(await run(file('bom.jsonl', `\ufeff${row('u1')}\n`))).toEqual([['u1', 4]]);
    expect(await run(file('bom.csv', `\ufeffuser_id,event_timestamp\nu1,${AT}\n`))).toEqual([
      ['u1', 4],
    ]);
    // Windows line ends: the header's names end before the \r.
    expect(await run(file('crlf.csv', `\ufeffuser_id,event_timestamp\r\nu1,${AT}\r\n`))).toEqual([
      ['u1', 4],
    ]);
    expect(await run(file('crlf-only-header.csv', 'user_id,event_timestamp\r\n'))).toEqual([]);
    // Still refused line by line after the mark.
    const err = await run(file('bom-bad.jsonl', `\ufeff${row('u1')}\n[1]\n`)).catch((e) => e);
    expect(String((err as Error).message)).toMatch(
      /bom-bad\.jsonl: 1 line is not a JSON object: line 2 \(not an object\)/,
    );
  });

  it('join keys of mixed JSON types are read as text: a string among numbers keeps its value', async () => {
    const path = file('mixed.jsonl', `${row(1)}\n${row('u1')}\n${row(true)}\n`);
    expect(await run(path)).toEqual([
      ['1', 5],
      ['u1', 4],
      ['true', 6],
    ]);
  });

  it('a join key written as an object or an array is refused with its row (JSON Lines, Parquet)', async () => {
    const db = await (await DuckDBInstance.create(':memory:')).connect();
    const parquet = async (name: string, key: string): Promise<string> => {
      const path = join(tmp.dir, name);
      await db.run(
        `COPY (SELECT ${key} AS user_id, TIMESTAMP '2024-01-01 00:10:00' AS event_timestamp) TO '${path}' (FORMAT parquet)`,
      );
      return path;
    };
    const cases: [string, RegExp][] = [
      [file('object.jsonl', `${row({ id: 'u1' })}\n`), /object\.jsonl, row 1: user_id/],
      [file('list.jsonl', `${row('u1')}\n${row(['u1'])}\n`), /list\.jsonl, row 2: user_id/],
      [file('obj-mixed.jsonl', `${row('u1')}\n${row({ id: 'u1' })}\n`), /obj-mixed\.jsonl, row 2/],
      [await parquet('struct.parquet', `{'id': 'u1'}`), /struct\.parquet, row 1: user_id/],
      [await parquet('list.parquet', `['u1']`), /list\.parquet, row 1: user_id/],
      [await parquet('map.parquet', `MAP {'id': 'u1'}`), /map\.parquet, row 1: user_id/],
    ];
    // A nested column of only nulls holds no key to refuse: null keys, as an empty CSV field.
    const nulls = await parquet('null-struct.parquet', `NULL::STRUCT(id VARCHAR)`);
    db.closeSync();
    expect(await run(nulls)).toEqual([[null, 0]]);
    for (const [path, where] of cases) {
      const err = await run(path).catch((e: unknown) => e);
      expect(err, path).toMatchObject({
        code: 'LARDER_BAD_REQUEST',
        detail: { reason: 'wrong_type' },
        message: expect.stringMatching(/is not a string or a number$/),
      });
      expect(String((err as Error).message)).toMatch(where);
      expect((err as { hint?: string }).hint).toMatch(/write each join key as a string/);
    }
  });

  it('a timestamp beyond any time is "not a time", in every unit and type, never a raw DuckDB error', async () => {
    const db = await (await DuckDBInstance.create(':memory:')).connect();
    const parquet = async (name: string, ts: string): Promise<string> => {
      const path = join(tmp.dir, name);
      await db.run(
        `COPY (SELECT 'u1' AS user_id, ${ts} AS event_timestamp) TO '${path}' (FORMAT parquet)`,
      );
      return path;
    };
    const big = '123456789012345678901234567890';
    const cases: [string, TimestampUnit | undefined][] = [
      [file('big.jsonl', `${row('u1', 0).replace('0}', `${big}}`)}\n`), undefined],
      [file('big-s.jsonl', `${row('u1', 0).replace('0}', `${big}}`)}\n`), 's'],
      [file('big-text.jsonl', `${row('u1', '1234567890123456789012')}\n`), 's'],
      [
        file('big-frac.jsonl', `${row('u1', 0).replace('0}', '12345678901234567890123.5}')}\n`),
        'ms',
      ],
      [file('big-frac-s.jsonl', `${row('u1', `${'9'.repeat(32)}.5`)}\n`), 's'],
      [file('big.csv', `user_id,event_timestamp\nu1,${big}\n`), 'us'],
      [await parquet('ubigint.parquet', '18446744073709551615::UBIGINT'), undefined],
      [await parquet('bigint-s.parquet', '9223372036854775807::BIGINT'), 's'],
    ];
    db.closeSync();
    for (const [path, unit] of cases) {
      const err = await run(path, unit ? { timestampUnit: unit } : {}).catch((e: unknown) => e);
      expect(err, path).toMatchObject({
        code: 'LARDER_BAD_REQUEST',
        detail: { reason: 'invalid_value' },
        message: expect.stringMatching(/, row 1: event_timestamp "[^"]+" is not a time$/),
      });
    }
  });

  it('epoch numbers beyond JavaScript dates, unit unknown: the suspect-unit error, not a crash', async () => {
    const err = await run(
      file('max.jsonl', `${row('u1', 0).replace('0}', '9223372036854775807}')}\n`),
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'LARDER_BAD_REQUEST',
      detail: { reason: 'suspect_time_unit' },
      message: expect.stringMatching(
        /every numeric event_timestamp lies after 2500 when read as epoch milliseconds \(9223372036854775807 → beyond the year 275760\)/,
      ),
    });
  });

  it('a UTF-16 text file is named as such (CSV, JSON Lines), not read as garbled UTF-8', async () => {
    const text = `user_id,event_timestamp\nu1,${AT}\n`;
    const utf16le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    const utf16be = Buffer.from(utf16le).swap16();
    for (const [name, bytes] of [
      ['le.csv', utf16le],
      ['be.csv', utf16be],
      [
        'le.jsonl',
        Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`${row('u1')}\n`, 'utf16le')]),
      ],
    ] as const) {
      const err = await run(file(name, bytes)).catch((e: unknown) => e);
      expect(err, name).toMatchObject({
        code: 'LARDER_BAD_REQUEST',
        detail: { reason: 'malformed_file' },
        message: expect.stringMatching(
          new RegExp(`^entity file .*${name.replace('.', '\\.')} is UTF-16 text$`),
        ),
        hint: expect.stringMatching(/save it as UTF-8/),
      });
    }
  });

  it('a request field is read as its declared type from CSV text; a value not of it is refused', async () => {
    const scaled = async (path: string): Promise<unknown[]> =>
      (
        await h.store.exportPointInTime({
          repo,
          features: repo.resolveFeatures({ features: ['scaled:scaled_sum'] }),
          entities: { type: 'file', path },
          out: { type: 'memory' },
        })
      ).data!.map((r) => r.scaled_sum);
    const csv = file(
      'factor.csv',
      `user_id,event_timestamp,factor\nu1,${AT},2\nu1,${AT},\nu1,${AT},1e1\n`,
    );
    expect(await scaled(csv)).toEqual([8, null, 40]);
    const mixed = `${JSON.stringify({ user_id: 'u1', event_timestamp: AT, factor: 2 })}\n${JSON.stringify({ user_id: 'u1', event_timestamp: AT, factor: '3' })}\n`;
    expect(await scaled(file('factor.jsonl', mixed))).toEqual([8, 12]);
    const err = await scaled(
      file('bad.csv', `user_id,event_timestamp,factor\nu1,${AT},2\nu1,${AT},abc\n`),
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'LARDER_BAD_REQUEST',
      detail: { reason: 'wrong_type' },
      message: expect.stringMatching(
        /bad\.csv, row 2: request field factor "abc" is not a float64$/,
      ),
    });
  });

  it('CSV: a quoted empty field is the empty string, an empty one null', async () => {
    const h2 = `user_id,event_timestamp\n"",${AT}\n,${AT}\n"u1",${AT}\n`;
    const got = await run(file('empty-key.csv', h2));
    expect(got.map((r) => r[0])).toEqual(['', null, 'u1']);
  });

  it('a CSV header naming a column twice is refused on line 1, naming the column', async () => {
    const err = await run(
      file('twice.csv', `user_id,event_timestamp,user_id\nu1,${AT},u2\n`),
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'LARDER_BAD_REQUEST',
      detail: { reason: 'malformed_file' },
      message: expect.stringMatching(
        /^entity file .*twice\.csv: line 1 names the column user_id twice$/,
      ),
    });
  });
});

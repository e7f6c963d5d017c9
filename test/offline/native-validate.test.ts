/**
 * Parity of the native JSON Lines validator (`native/jsonl-validate`, offline/duckdb/
 * native-validate.ts) with DuckDB's (`readSourceSql` through the cache's `COPY`): on random
 * files of valid and broken records (test/support/jsonl-line-arbs.ts) and on hand-picked edge
 * lines, the entry it writes holds the same rows — values, types, `__file` and `__reason` — as
 * DuckDB's, compared `EXCEPT ALL` both ways; a line it cannot decide exactly makes it fall back,
 * and the cache then validates the file with DuckDB; the reject reports do not change.
 *
 * The executable is built first when it is not (`npm run build:native`); without cargo the test
 * fails, saying so.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cachedJsonl } from '../../offline/duckdb/jsonl-cache.ts';
import { NATIVE_VALIDATOR, writePlan } from '../../offline/duckdb/native-validate.ts';
import { DuckDBClient } from '../../offline/local/duckdb-client.ts';
import { describeZod, type RecordType } from '../../definitions/record-schema.ts';
import type { RejectReport } from '../../offline/offline-store.ts';
import { UserEventSchema } from '../../examples/ecommerce/features/schemas.ts';
import { schemaRecord } from '../support/schema-records.ts';
import { fileOf, fileText, WIDE, type Case } from '../support/jsonl-line-arbs.ts';
import { tempDir } from '../support/temp-repo.ts';
import {
  ensureNativeValidator,
  loadWideSource,
  NativeEntries,
  WIDE_GOOD,
} from '../support/native-entries.ts';

const { SCHEMA, main: MAIN } = WIDE;

const tmp = tempDir();
let db: DuckDBClient;
let n = 0;
beforeAll(async () => {
  ensureNativeValidator();
  db = await DuckDBClient.open({ threads: '2' });
}, 300_000);
afterAll(() => {
  db?.close();
  tmp.cleanup();
});

const entries = new NativeEntries(() => db, tmp.dir);
const duckdbEntry = (file: string, schema: RecordType): Promise<string> =>
  entries.duckdb(file, schema);
const nativeEntry = (file: string, schema: RecordType): ReturnType<NativeEntries['native']> =>
  entries.native(file, schema);
const expectSameEntries = (a: string, b: string, what: string): Promise<void> =>
  entries.expectSame(a, b, what);

/** Compares both validators on `text`; true when the native one decided every line. */
async function compare(text: string, schema: RecordType = SCHEMA): Promise<boolean> {
  const file = join(tmp.dir, `in-${n++}.jsonl`);
  writeFileSync(file, text);
  const { out, r } = await nativeEntry(file, schema);
  if ('fallback' in r) return false;
  const expected = await duckdbEntry(file, schema);
  await expectSameEntries(expected, out, `file ${JSON.stringify(text)}`);
  expect(r.rows).toBe(await entries.count(out));
  return true;
}

const GOOD = WIDE_GOOD;
const good = JSON.stringify(GOOD);
/** The good record with field `k` written as the raw JSON text `raw`. */
const withRaw = (k: string, raw: string): string =>
  JSON.stringify({ ...GOOD, [k]: '@raw@' }).replace('"@raw@"', raw);
const deep = `${'['.repeat(70)}${']'.repeat(70)}`;

/** Lines the native validator decides (compared with DuckDB's decisions, reasons, values). */
const DECIDED = [
  good,
  `${good}x`,
  `${good.slice(0, -1)},}`,
  '[1,]',
  withRaw('id', '"\\ud800"'),
  withRaw('id', '"\\udc00\\ud800"'),
  withRaw('id', '"\\ud83d\\ude00"'),
  ...['01', '-', '1.', '.5', '+1', '0x10', '1e2', '-0', '1E+2', '100e-2', '0.1e1'].map((v) =>
    withRaw('qty', v),
  ),
  ...['9007199254740991', '9007199254740992', '-9223372036854775808', '9223372036854775807'].map(
    (v) => withRaw('qty', v),
  ),
  ...['9007199254740991', '-9007199254740992', '1.5', '1e300', '-1e-5', '-0.0', '0e5'].map((v) =>
    withRaw('ts', v),
  ),
  ...['1e-400', '9007199254740993', '123456789012345678', '0.1', '1.7976931348623157e308'].map(
    (v) => withRaw('x', v),
  ),
  ...['4.9e-324', '2.2250738585072011e-308', 'NaN', 'Infinity', 'nan', 'inf'].map((v) =>
    withRaw('x', v),
  ),
  ...['0', '1', '0.9999999999999999', '1e-320'].map((v) => withRaw('score', v)),
  withRaw('id', '"a\\x"'),
  withRaw('id', '"\\u12"'),
  withRaw('flag', 'tru'),
  withRaw('flag', 'nul'),
  `/* c */ ${good}`,
  `${good} // c`,
  withRaw('id', "'a'"),
  '{id: "a"}',
  '{"id" "a"}',
  '{"id":"a" "b":1}',
  '[',
  ']',
  '}',
  '{"a":[1,2}',
  '{"a":{"b":1]}',
  `  ${good}  `,
  `\t${good}`,
  ...['"é"', '"\\u00e9"', '"x/y"', '"\\u2028"', '"😀"', '"nan"'].map((v) => withRaw('kind', v)),
  withRaw('n', '"a,]"'),
  `{"zz":1,"zz":2,${good.slice(1)}`,
  withRaw('attrs', '{"2":"a","1":"b","x":"c"}'),
  withRaw('counts', '{"b":1,"a":null,"c":"x"}'),
  withRaw('counts', '{"b":"x","a":null}'),
  withRaw('counts', '{"a":1.5}'),
  withRaw('items', '[{"sku":"","q":1,"p":null}]'),
  withRaw('items', '[null]'),
  withRaw('items', '[{"sku":"a","q":1.0,"p":-0.5},{"sku":"b","q":2,"p":1e3}]'),
  ...['[]', '["ab","cd","ef","gh"]', '["abc"]', '[null]', '["😀"]', '["a😀"]'].map((v) =>
    withRaw('tags', v),
  ),
  ...['"😀😀"', '""', '"\\ud83d\\ude00x"'].map((v) => withRaw('code', v)),
  ...['{"ua":null,"ref":null}', '{"ref":1}', '[]', '"s"'].map((v) => withRaw('ctx', v)),
  ...['null', '"x"', '5', 'true', '[]', '{}', 'NaN', '{"x": NaN}', '{"x": -Infinity}'],
  ...[' ', '\u00a0', '\u3000 ', '\u2028', '\ufeff', '\v', ''],
  '{"id":"a\u2028b"}',
];

/** Lines it leaves to DuckDB, each with why. */
const FALLBACK: [string, RegExp][] = [
  [withRaw('kind', '"x\\u0000"'), /enum reason/],
  [withRaw('kind', '"x\\"y"'), /enum reason/],
  [withRaw('qty', '9223372036854775808'), /int64 range/],
  [withRaw('qty', '18446744073709551615000'), /more than 19 digits/],
  [withRaw('x', '-0'), /negative zero/],
  [withRaw('x', '-1e-400'), /negative zero/],
  [withRaw('x', '1e400'), /double range/],
  [withRaw('x', deep), /nested deeper/],
  [withRaw('ctx', '{"ua":"a","ua":"b","ref":null}'), /repeated in an object/],
  [withRaw('attrs', '{"k":"a","k":"b"}'), /repeated in a map/],
  [`{"id":"y",${good.slice(1)}`, /repeated in an object/],
  [`${good}\r${good}`, /CR/],
  [`${good}\r\r`, /CR/],
  [`\ufeff${good}`, /byte order mark/],
  [withRaw('id', '"a\tb"'), /control character/],
  [`${good}\u001f`, /U\+001F/],
];

describe('native JSON Lines validator', () => {
  it('writes the entry DuckDB writes for hand-picked edge lines', async () => {
    expect(await compare(DECIDED.join('\n') + '\n')).toBe(true);
  });

  it('writes the entry DuckDB writes for CRLF files, mixed line ends and a BOM', async () => {
    // `\r\n` ends a line as `\n` does; a byte order mark at the start of the file is dropped.
    expect(await compare(DECIDED.join('\r\n') + '\r\n')).toBe(true);
    expect(await compare(DECIDED.join('\r\n'))).toBe(true);
    expect(await compare(`\ufeff${DECIDED.join('\r\n')}\r\n`)).toBe(true);
    expect(await compare(`\ufeff${DECIDED.join('\n')}`)).toBe(true);
    expect(await compare(DECIDED.map((l, i) => l + (i % 3 ? '\n' : '\r\n')).join(''))).toBe(true);
    expect(await compare(`\ufeff\r\n${good}\r\n\r\n  \r\n${good}\r\n`)).toBe(true);
    expect(await compare(`\ufeff${good}\n`)).toBe(true);
  });

  it('falls back on every line it cannot decide exactly', async () => {
    for (const [line, why] of FALLBACK) {
      const file = join(tmp.dir, `fb-${n++}.jsonl`);
      writeFileSync(file, `${good}\n${line}\n`);
      const { r } = await nativeEntry(file, SCHEMA);
      expect(r, JSON.stringify(line)).toEqual({ fallback: expect.stringMatching(why) });
      expect((r as { fallback: string }).fallback).toMatch(/\(line 2\)$/);
    }
    // Not UTF-8.
    const file = join(tmp.dir, `fb-${n++}.jsonl`);
    writeFileSync(
      file,
      Buffer.concat([Buffer.from(`${good}\n{"id":"`), Buffer.of(0xff), Buffer.from('"}\n')]),
    );
    expect((await nativeEntry(file, SCHEMA)).r).toEqual({
      fallback: expect.stringMatching(/not UTF-8/),
    });
  });

  it('writes the entry DuckDB writes for random files', { timeout: 300_000 }, async () => {
    let decided = 0;
    const runs = 60;
    await fc.assert(
      fc.asyncProperty(fileOf(MAIN), async (f) => {
        if (await compare(fileText(f))) decided++;
      }),
      { numRuns: runs },
    );
    // An integer beyond the int64 range, a key repeated, … send a file to DuckDB; the rest
    // (CRLF and a BOM included) are decided.
    expect(decided).toBeGreaterThan(runs / 2);
  });

  it(
    'decides each line the direct way as the generic parse does (random files)',
    { timeout: 120_000 },
    async () => {
      // Valid records go straight into their columns (native/jsonl-validate/src/direct.rs); any
      // other line is left to the generic parse. JSONL_VALIDATE_GENERIC sends every line there.
      const plan = join(tmp.dir, 'plan-direct.json');
      writePlan(plan, SCHEMA);
      const run = (file: string, out: string, generic: boolean) =>
        spawnSync(
          NATIVE_VALIDATOR,
          ['--plan', plan, '--input', file, '--name', file, '--output', out],
          {
            encoding: 'utf8',
            env: generic ? { ...process.env, JSONL_VALIDATE_GENERIC: '1' } : process.env,
          },
        );
      let decided = 0;
      const runs = 40;
      await fc.assert(
        fc.asyncProperty(fileOf(MAIN), async (f) => {
          const file = join(tmp.dir, `direct-${n++}.jsonl`);
          writeFileSync(file, fileText(f));
          const direct = run(file, `${file}.direct.parquet`, false);
          const generic = run(file, `${file}.generic.parquet`, true);
          const what = `file ${JSON.stringify(fileText(f))}`;
          // The same exit, row count and fallback reason (stderr), …
          expect([direct.status, direct.stdout, direct.stderr], what).toEqual([
            generic.status,
            generic.stdout,
            generic.stderr,
          ]);
          if (direct.status !== 0) return;
          decided++;
          // … and the same rows, values and reasons: the same bytes, or (a line taken back
          // leaves its new distinct strings in a dictionary, unused) the same rows both ways.
          const [a, b] = [`${file}.generic.parquet`, `${file}.direct.parquet`];
          if (!readFileSync(a).equals(readFileSync(b))) await expectSameEntries(a, b, what);
        }),
        { numRuns: runs },
      );
      expect(decided).toBeGreaterThan(runs / 2);
    },
  );

  it('writes the entry DuckDB writes for the example’s user events, valid and broken', async () => {
    const schema = describeZod(UserEventSchema) as RecordType;
    const fields = Object.keys(schema.fields);
    const c: Case = {
      zod: UserEventSchema,
      schema,
      fields,
      record: schemaRecord(UserEventSchema, { maxArrayLength: 3 }),
      paths: [
        ...fields.map((k) => [k]),
        ...['userAgent', 'ip', 'platform', 'referrer'].map((k) => ['context', k]),
        ['properties', 'k'],
      ],
    };
    const lines = fc.sample(fileOf(c), { numRuns: 40, seed: 7 }).flatMap((f) => f.lines);
    // Lines it leaves to DuckDB (numbers beyond the int64 range, …) are taken out, one by one.
    const file = join(tmp.dir, `in-${n++}.jsonl`);
    const left: string[] = [];
    for (;;) {
      writeFileSync(file, lines.join('\n') + '\n');
      const { r } = await nativeEntry(file, schema);
      if ('rows' in r) break;
      const at = Number(/\(line (\d+)\)$/.exec(r.fallback)![1]);
      left.push(`${r.fallback}: ${lines[at - 1]!}`);
      lines.splice(at - 1, 1);
    }
    expect(left.length, left.join('\n')).toBeLessThan(lines.length / 10);
    expect(await compare(lines.join('\n') + '\n', schema)).toBe(true);
  });

  it('writes the entry DuckDB writes over several row groups', async () => {
    // 130k lines: two row groups of 122,880 rows; strings dictionary-coded per chunk (user ids,
    // platforms) or not (event ids, all distinct), every 100th line broken.
    const schema = describeZod(UserEventSchema) as RecordType;
    const records = fc.sample(schemaRecord(UserEventSchema), { numRuns: 2000, seed: 3 });
    const lines = Array.from({ length: 130_000 }, (_, i) => {
      const r = { ...records[i % records.length]!, eventId: `e${i}` };
      return i % 100 === 99 ? JSON.stringify({ ...r, timestamp: 'x' }) : JSON.stringify(r);
    });
    expect(await compare(lines.join('\n') + '\n', schema)).toBe(true);
  }, 120_000);

  it('writes the entry DuckDB writes when a line is rejected after its first fields were written', async () => {
    // The executable judges and writes a line's fields in one walk and takes back what a line
    // rejected midway wrote. Lines 1,024–1,039 fail at their last field (context.platform), so
    // the event, user and session ids' dictionaries (all distinct) give up during a rejected
    // line; later lines fail at a map's second value, at the timestamp, the enum or the last
    // field, after new distinct values were added.
    const schema = describeZod(UserEventSchema) as RecordType;
    const lines = Array.from({ length: 3000 }, (_, i) => {
      const r = {
        eventId: `e${i}`,
        userId: `u${(i * 7919) % 100_003}`,
        sessionId: `s${i}`,
        eventType: ['page_view', 'click', 'search'][i % 3],
        timestamp: 1714608003451 + i,
        properties: { page: `/p/${i % 5003}`, category: i % 2 ? 'a' : 'b' } as Record<
          string,
          unknown
        >,
        context: { userAgent: 'UA', ip: `1.2.${i % 256}.${i % 251}`, platform: 'web' as unknown },
      };
      const late = i > 1500;
      if ((i >= 1023 && i < 1040) || (late && i % 7 === 3)) r.context.platform = 5;
      if (late && i % 11 === 5) r.properties = { a: `x${i}`, b: 3, c: 'y' };
      if (late && i % 13 === 0) r.timestamp = -1;
      if (late && i % 17 === 2) r.eventType = 'nope';
      if (late && i % 19 === 4) r.properties = {};
      return JSON.stringify(r);
    });
    expect(await compare(lines.join('\n') + '\n', schema)).toBe(true);
  });

  it('caches through it, falls back to DuckDB per file, and reports the same rejects', async () => {
    const dir = join(tmp.dir, `source-${n++}`);
    mkdirSync(dir);
    const texts = [
      [good, withRaw('qty', '"5"'), 'nope', '', withRaw('kind', '"zz"')].join('\n') + '\n',
      [good, withRaw('x', '-0'), withRaw('ts', '1.5')].join('\r\n') + '\r\n', // falls back
    ];
    const files = texts.map((t, i) => {
      const path = join(dir, `part-${i}.jsonl`);
      writeFileSync(path, t);
      return path;
    });
    const viaDuckdb = await cachedJsonl(
      db,
      join(tmp.dir, `cache-${n++}`),
      SCHEMA,
      files,
      undefined,
      false,
    );
    const viaNative = await cachedJsonl(db, join(tmp.dir, `cache-${n++}`), SCHEMA, files);
    for (const [i, e] of viaDuckdb.entries()) await expectSameEntries(e, viaNative[i]!, texts[i]!);

    const reports = (native: boolean): Promise<RejectReport[]> =>
      loadWideSource({
        dataDir: tmp.dir,
        dir,
        home: join(tmp.dir, `home-${n++}`),
        cache: true,
        native,
        memoryLimit: '1GB',
      });
    const withIt = await reports(true);
    expect(withIt.map((r) => r.count)).toEqual([3, 1]);
    expect(withIt).toEqual(await reports(false));
  });
});

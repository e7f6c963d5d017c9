/**
 * The native JSON Lines validator (`native/jsonl-validate`) against inputs it was not written
 * against, compared with DuckDB's path (`cachedJsonl(..., native: false)`) entry for entry
 * (`EXCEPT ALL` both ways) and reject report for reject report:
 *
 * - lines mutated byte by byte (flipped, inserted, deleted bytes, truncation, a key repeated in
 *   place, whitespace kinds around a record) and records with odd raw JSON at any depth
 *   (escapes, surrogates, overlong and out-of-range numbers, negative zeros, leading zeros);
 *   a fast-check property with a fixed seed. A longer local run (not in the suite):
 *   `LARDER_NATIVE_FUZZ_RUNS=150 LARDER_NATIVE_FUZZ_SEED=<seed> npx vitest run <this file> -t mutated`
 *   (session 18: seeds 604219873 and 927364150, 150 files each, green);
 * - files of no line, only blank lines, no final newline, lines at DuckDB's 16 MiB line limit and
 *   beyond it (a reject, `LINE_TOO_LONG`, on every path: it used to fail the whole read);
 * - an executable that is missing, not executable, killed mid-write or failing: the file is
 *   validated by DuckDB, and no half-written entry is ever used or left behind.
 *
 * The executable is built first when it is not (as in `native-validate.test.ts`).
 */
import { chmodSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cachedJsonl } from '../../offline/duckdb/jsonl-cache.ts';
import { DuckDBClient } from '../../offline/local/duckdb-client.ts';
import { LINE_TOO_LONG, MAX_LINE_BYTES } from '../../offline/validate-record.ts';
import type { RejectReport } from '../../offline/offline-store.ts';
import { mutate, Raw, WIDE, write } from '../support/jsonl-line-arbs.ts';
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

// ---- lines nobody designed ------------------------------------------------------------------

/** Bytes inserted into a valid line (as UTF-8). */
const TOKENS = [
  '\\u0000',
  '\\ud800',
  '\\udc00',
  '\\ud800\\udc00',
  '\\/',
  '1E400',
  '-0.0',
  '1.0e-400',
  '00',
  '+1',
  '-',
  '0',
  '\f',
  '\u2028',
  '\u2029',
  '\u00a0',
  '\v',
  ' ',
  '\t',
  ',',
  '"',
  '\\',
  '{',
  '}',
  '[',
  ']',
  ':',
  '\u0000',
  'é',
  '😀',
  '\\u00e9',
  '\\"',
  'null',
  'true',
  '1e-5',
  '.',
  'e',
  '\u0085',
  '\ufeff',
  '\u001f',
  '\u007f',
];

/** Raw JSON values set at any path of a valid record. */
const RAWS = [
  '"\\u0000"',
  '"a\\u0000b"',
  '"\\ud800"',
  '"\\udbff\\udfff"',
  '"\\/"',
  '1E400',
  '-1E400',
  '-0.0',
  '-0',
  '1.0e-400',
  '-1.0e-400',
  '00',
  '+1',
  '1.',
  '0.0',
  '1e308',
  '1.7976931348623159e308',
  '9007199254740991.5',
  '4503599627370496.5',
  '0.30000000000000004',
  '2.5e-324',
  '2.4703282292062328e-324',
  '1e-323',
  '123456789012345678',
  '1234567890123456789',
  '-1234567890123456789',
  '9223372036854775807',
  '-9223372036854775807',
  '1e18',
  '1e19',
  '1.0',
  '1e0',
  '10e-1',
  '2147483647',
  '2147483648',
  '-2147483649',
  '4294967296',
  '1000.0000000000001',
  '999.9999999999999',
  '1000.00000000000001',
  '0.00000000000000000000000000000000000000001',
  '0e99999999999',
  '1e-99999999999',
  '"\\u2028"',
  '"\\uFEFF"',
  '"\\uffff"',
  '"\\u0085"',
  '"a\\\\"',
  '"\\\\u0041"',
  '{"ua":"x","ref":null,"ua2":1}',
  '{"ref":null,"ua":"x"}',
  '{"\\u0075a":"x","ref":null}',
  '{"ua":"x","r\\u0065f":"y"}',
  '{}',
  '[]',
  '[[]]',
  '[{}]',
  '{"a":{"b":{"c":[1,{"d":null}]}}}',
  '""',
  '"ab"',
  '"abc"',
  '"😀"',
  '"\\u00e9"',
  '"\\u0065\\u0301"',
  '1E+2',
  '-0e0',
  '5e-1',
  'true',
  'null',
];

const PATHS = [
  ...MAIN.paths,
  ['items', '0', 'zz'],
  ['ctx', 'zz'],
  ['attrs', '\u0000'],
  ['attrs', ''],
  ['counts', 'é'],
  ['items', '1', 'q'],
];

/** A valid record with 1–3 values replaced by raw JSON text, at any depth. */
const oddValues = fc
  .tuple(
    MAIN.record,
    fc.array(fc.tuple(fc.constantFrom(...PATHS), fc.constantFrom(...RAWS)), {
      minLength: 1,
      maxLength: 3,
    }),
    fc.boolean(),
  )
  .map(([r, sets, space]) => {
    let x: unknown = r;
    for (const [path, raw] of sets)
      x = mutate(x as Record<string, unknown>, { kind: 'set', path, value: new Raw(raw) });
    return Buffer.from(write(x, { space, shuffle: 0, intForm: 'plain' }));
  });

/** A valid line with 1–3 byte-level edits. */
const editedBytes = fc
  .tuple(
    MAIN.record,
    fc.array(fc.tuple(fc.nat(4), fc.nat(), fc.nat(), fc.constantFrom(...TOKENS)), {
      minLength: 1,
      maxLength: 3,
    }),
  )
  .map(([r, edits]) => {
    let b = Buffer.from(JSON.stringify(r));
    for (const [op, p, q, token] of edits) {
      const at = p % (b.length + 1);
      if (op === 0) {
        b = Buffer.from(b); // flip a byte
        if (at < b.length) b[at] = q % 256;
      } else if (op === 1)
        b = Buffer.concat([b.subarray(0, at), Buffer.from(token), b.subarray(at)]);
      else if (op === 2) b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + (q % 4))]);
      else if (op === 3)
        b = b.subarray(0, at); // truncate
      else {
        // A `"key":value` repeated in place (at any depth).
        const s = b.toString('latin1');
        const keys = [...s.matchAll(/[{,]("[^"\\]*":)/g)];
        if (keys.length > 0) {
          const from = keys[q % keys.length]!.index! + 1;
          const end = s.indexOf(',', from);
          const pair = s.slice(from, end > 0 ? end : s.length - 1);
          b = Buffer.concat([
            b.subarray(0, from),
            Buffer.from(`${pair},`, 'latin1'),
            b.subarray(from),
          ]);
        }
      }
    }
    return b;
  });

const SPACES = [' ', '\t', '\f', '\v', '\u2028', '\u00a0', '\u3000', '\r', '\ufeff', ''];
const spaced = fc
  .tuple(MAIN.record, fc.constantFrom(...SPACES), fc.constantFrom(...SPACES))
  .map(([r, a, z]) => Buffer.from(a + JSON.stringify(r) + z));
const blankish = fc
  .constantFrom('', ' ', '\f', '\u2028', '\u00a0 \t', '\v', '\u0085', '\u180e', '\u200b', '\ufeff')
  .map((s) => Buffer.from(s));

const lineArb = fc.oneof(
  { weight: 4, arbitrary: oddValues },
  { weight: 4, arbitrary: editedBytes },
  { weight: 1, arbitrary: spaced },
  { weight: 1, arbitrary: blankish },
);

const entries = new NativeEntries(() => db, tmp.dir);
const duckdbEntry = (file: string): Promise<string> => entries.duckdb(file, SCHEMA);
const nativeEntry = (file: string): ReturnType<NativeEntries['native']> =>
  entries.native(file, SCHEMA);
const count = (path: string): Promise<number> => entries.count(path);
const expectSameEntries = (a: string, b: string, what: string): Promise<void> =>
  entries.expectSame(a, b, what);

/**
 * Writes `lines`, drops the lines the native validator leaves to DuckDB one by one (each
 * counted by its reason in `fallbacks`), then compares both entries of what remains. Returns the
 * lines the native validator decided.
 */
async function compareDecided(lines: Buffer[], fallbacks: Map<string, number>): Promise<Buffer[]> {
  const file = join(tmp.dir, `in-${n++}.jsonl`);
  const join_ = (ls: Buffer[]): Buffer => Buffer.concat(ls.flatMap((l) => [l, Buffer.from('\n')]));
  // The native validator's line numbers count `\n`-separated lines.
  const rest = join_(lines).toString('latin1').split('\n').slice(0, -1);
  for (;;) {
    writeFileSync(file, Buffer.from(rest.map((l) => `${l}\n`).join(''), 'latin1'));
    const { out, r } = await nativeEntry(file);
    if ('rows' in r) {
      const expected = await duckdbEntry(file);
      await expectSameEntries(expected, out, JSON.stringify(rest));
      expect(r.rows).toBe(await count(out));
      return rest.map((l) => Buffer.from(l, 'latin1'));
    }
    const m = /^(.*) \(line (\d+)\)$/.exec(r.fallback);
    expect(m, r.fallback).not.toBeNull();
    fallbacks.set(m![1]!, (fallbacks.get(m![1]!) ?? 0) + 1);
    rest.splice(Number(m![2]) - 1, 1);
  }
}

describe('native JSON Lines validator, inputs nobody designed', () => {
  const runs = Number(process.env.LARDER_NATIVE_FUZZ_RUNS ?? 40);
  const seed = Number(process.env.LARDER_NATIVE_FUZZ_SEED ?? 181_818);
  it(
    `writes DuckDB's entry for mutated lines (${runs} files, seed ${seed})`,
    { timeout: 60_000 + runs * 5_000 },
    async () => {
      const fallbacks = new Map<string, number>();
      let decided = 0;
      let total = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(lineArb, { minLength: 1, maxLength: 40 }), async (lines) => {
          total += lines.length;
          decided += (await compareDecided(lines, fallbacks)).length;
        }),
        { numRuns: runs, seed, endOnFailure: true },
      );
      // Most mutated lines are decided natively (the rest: bytes that are not UTF-8, control
      // characters, repeated keys, negative zeros, numbers beyond a double's range, …).
      expect(decided, JSON.stringify([...fallbacks])).toBeGreaterThan(total / 2);
    },
  );

  it('writes DuckDB’s entry for files of no line, blank lines only, no final newline', async () => {
    const good = JSON.stringify(fc.sample(MAIN.record, { numRuns: 1, seed: 5 })[0]);
    const texts = [
      '',
      '\n',
      '\n\n  \n\t\n',
      '\n \n ',
      '\f\n\u2028\n\u00a0\n\u3000\n\v',
      good,
      `${good}\n${good}`,
      `\n\n${good}\n\n`,
      `${good}\n\u2028\n${good}\n`,
    ];
    for (const text of texts) {
      const file = join(tmp.dir, `in-${n++}.jsonl`);
      writeFileSync(file, text);
      const { out, r } = await nativeEntry(file);
      expect(r, JSON.stringify(text)).toHaveProperty('rows');
      await expectSameEntries(await duckdbEntry(file), out, JSON.stringify(text));
    }
  });
});

// ---- lines at and beyond DuckDB's line limit ------------------------------------------------

const GOOD = WIDE_GOOD;
const good = JSON.stringify(GOOD);
/** A good record of exactly `bytes` bytes (a long `id`). */
const sized = (bytes: number): string =>
  JSON.stringify({ ...GOOD, id: 'y'.repeat(bytes - good.length + 1) });

/** The reject reports of a source of `files` (named by their texts), read as configured. */
async function reports(
  texts: string[],
  config: { native: boolean; cache: boolean },
): Promise<RejectReport[]> {
  const dir = join(tmp.dir, `source-${n++}`);
  mkdirSync(dir);
  texts.forEach((t, i) => writeFileSync(join(dir, `part-${i}.jsonl`), t));
  const rejects = await loadWideSource(
    { dataDir: tmp.dir, dir, home: join(tmp.dir, `home-${n++}`), ...config, memoryLimit: '2GB' },
    async (client, table) => {
      const [rows] = await client.all(
        `SELECT count(*)::INT AS n, count(*) FILTER (__reason IS NULL)::INT AS good FROM ${table}`,
      );
      expect(rows).toEqual({ n: 12, good: 9 });
    },
  );
  return rejects.map((r) => ({ ...r, file: r.file.slice(dir.length + 1) }));
}

describe('lines at and beyond DuckDB’s 16 MiB line limit', () => {
  it(
    'are read up to 16 MiB and rejected beyond, the same on every path',
    { timeout: 300_000 },
    async () => {
      expect(sized(MAX_LINE_BYTES)).toHaveLength(MAX_LINE_BYTES);
      const texts = [
        // At the limit: read (natively); beyond it: a reject with its reason, the file's other
        // lines read (the native validator leaves such a file to DuckDB).
        [good, sized(MAX_LINE_BYTES), good, sized(MAX_LINE_BYTES + 1)].join('\n') + '\n',
        // 20 MB, without a final newline.
        [good, good, good, sized(20_000_000)].join('\n'),
        // CRLF.
        [sized(MAX_LINE_BYTES), good, good, sized(MAX_LINE_BYTES + 1)].join('\r\n') + '\r\n',
      ];
      const expected: RejectReport[] = [
        {
          source: 's',
          file: 'part-0.jsonl',
          count: 1,
          examples: [{ line: 4, reason: LINE_TOO_LONG }],
        },
        {
          source: 's',
          file: 'part-1.jsonl',
          count: 1,
          examples: [{ line: 4, reason: LINE_TOO_LONG }],
        },
        {
          source: 's',
          file: 'part-2.jsonl',
          count: 1,
          examples: [{ line: 4, reason: LINE_TOO_LONG }],
        },
      ];
      // A line of exactly 16 MiB is decided natively, as DuckDB decides it.
      const file = join(tmp.dir, `in-${n++}.jsonl`);
      writeFileSync(file, `${good}\n${sized(MAX_LINE_BYTES)}\n`);
      const { out, r } = await nativeEntry(file);
      expect(r).toEqual({ rows: 2 });
      await expectSameEntries(await duckdbEntry(file), out, '16 MiB');
      for (const config of [
        { native: true, cache: true },
        { native: false, cache: true },
        { native: false, cache: false },
      ])
        expect(await reports(texts, config), JSON.stringify(config)).toEqual(expected);
    },
  );
});

// ---- an executable that fails -----------------------------------------------------------------

describe('a native validator that is missing, not executable, killed or failing', () => {
  /** An executable shell script running `body` (its arguments: --plan p --input f --name n --output o). */
  const script = (body: string): string => {
    const path = join(tmp.dir, `exe-${n++}.sh`);
    writeFileSync(path, `#!/bin/sh\n${body}\n`);
    chmodSync(path, 0o755);
    return path;
  };

  it('leaves the file to DuckDB, and no half-written entry is used or left behind', async () => {
    const file = join(tmp.dir, `in-${n++}.jsonl`);
    writeFileSync(file, [good, '{"id":1}', 'nope', ''].join('\n'));
    const expected = await duckdbEntry(file);
    const notExecutable = join(tmp.dir, `exe-${n++}`);
    writeFileSync(notExecutable, '#!/bin/sh\nexit 0\n');
    chmodSync(notExecutable, 0o644);
    const exes = {
      missing: join(tmp.dir, 'no-such-validator'),
      notExecutable,
      // Writes half an entry, then is killed.
      killed: script('printf "PAR1 half an entry" > "$8"; kill -9 $$'),
      // Writes half an entry and fails.
      failing: script('printf "PAR1 half an entry" > "$8"; echo "error: disk full" >&2; exit 1'),
      // Falls back after writing part of the entry.
      fallback: script('printf "PAR1 half" > "$8"; echo "fallback: a test (line 1)" >&2; exit 3'),
      // Exits 0 without saying how many rows it wrote.
      silent: script('printf "PAR1 half" > "$8"; exit 0'),
    };
    for (const [what, exe] of Object.entries(exes)) {
      const cacheDir = join(tmp.dir, `cache-${n++}`);
      const [entry] = await cachedJsonl(db, cacheDir, SCHEMA, [file], undefined, exe);
      await expectSameEntries(expected, entry!, what);
      // Only the entry is left: no temp file, no plan.
      expect(readdirSync(cacheDir), what).toEqual([entry!.slice(cacheDir.length + 1)]);
    }
  });
});

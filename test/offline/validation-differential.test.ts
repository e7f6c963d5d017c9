/**
 * Differential test of the batch validators: the record-level one (`lineProblem`,
 * offline/validate-record.ts, which writes the line-numbered reject examples) and the DuckDB SQL
 * that counts rejects and types the good records (`readSourceSql`, both with DuckDB's typed
 * fast path and record-level only, `typed: false`) must take the same decision with the same
 * reason on every line, and read the same values from every good line.
 *
 * Lines are records generated from the schema (test/support/schema-records.ts), written the
 * way producers write them (other key orders, spaces, `1.0` / `1e3` for integers, CRLF, a BOM)
 * and broken the ways producers break them: wrong types, missing and null required fields,
 * values outside an enum, unknown keys, huge numbers, non-JSON and non-object lines, blank and
 * whitespace-only lines, empty files.
 *
 * Not generated: a key repeated in one object (`{"id": 1, "id": "a"}`). `JSON.parse` keeps the
 * last value, DuckDB's JSON functions the first, so the two validators judge different values;
 * that predates the typed fast path (which never accepts a repeated record key itself).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBClient, ident } from '../../offline/local/duckdb-client.ts';
import { readSourceSql } from '../../offline/duckdb/sql/read-source.ts';
import { jsonlLines } from '../../offline/duckdb/jsonl-lines.ts';
import { lineProblem } from '../../offline/validate-record.ts';
import { parseSourceRecord } from '../../definitions/source-record.ts';
import { createAvroSchemas } from '../../streaming/avro-schemas.ts';
import { createRecordDecoder, type RecordDecoder } from '../../streaming/record-decoder.ts';
import { TransactionSchema, UserEventSchema } from '../../examples/ecommerce/features/schemas.ts';
import { DuckDBSources } from '../../offline/duckdb/duckdb-sources.ts';
import { LocalDatabase } from '../../offline/local/local-database.ts';
import type { BatchSourceSpec } from '../../definitions/spec.ts';
import type { RejectReport } from '../../offline/offline-store.ts';
import { describeZod, type RecordType } from '../../definitions/record-schema.ts';
import { schemaRecord } from '../support/schema-records.ts';
import {
  fileOf,
  fileText,
  lineOf,
  Raw,
  write,
  type Case,
  type FileCase,
  type Style,
  WIDE,
} from '../support/jsonl-line-arbs.ts';
import { tempDir } from '../support/temp-repo.ts';

const { SCHEMA, FIELDS, main: MAIN } = WIDE;

const line = lineOf(MAIN);

const file = fileOf(MAIN);

// ---- running both -----------------------------------------------------------------------------

let db: DuckDBClient;
let tmp: { dir: string; cleanup: () => void };
let n = 0;
beforeAll(async () => {
  // One thread: rows come back in file order.
  db = await DuckDBClient.open({ threads: '1' });
  tmp = tempDir();
});
afterAll(() => tmp?.cleanup());

/** The record-level validator over a file's lines, as the reject examples read them. */
async function byRecord(path: string, c: Case): Promise<{ reason: string | null; line: string }[]> {
  const out: { reason: string | null; line: string }[] = [];
  for await (const l of jsonlLines(path)) {
    if (l.trim() === '') continue;
    out.push({ reason: lineProblem(c.schema, l), line: l });
  }
  return out;
}

/** The SQL loader's reason and values (as JSON) per non-blank line, in file order. */
async function bySql(
  path: string,
  typed: boolean,
  c: Case,
): Promise<{ reason: string | null; v: unknown }[]> {
  const sql = readSourceSql(c.schema, c.fields, { jsonl: [path], parquet: [] }, { typed });
  const row = `json_object(${c.fields.map((f) => `'${f}', ${ident(f)}`).join(', ')})`;
  const rows = await db.all(`SELECT __reason AS reason, ${row}::VARCHAR AS v FROM (${sql})`);
  return rows.map((r) => ({
    reason: r.reason === null ? null : String(r.reason),
    v: JSON.parse(quoteNonFinite(String(r.v))) as unknown,
  }));
}

/** DuckDB writes ±inf as bare `Infinity` / `-Infinity`: quote them (outside strings) to parse. */
function quoteNonFinite(json: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i]!;
    if (inString) {
      out += c;
      if (c === '\\') out += json[++i] ?? '';
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else {
      const m = /^(-?Infinity|NaN)/.exec(json.slice(i, i + 9));
      if (m) {
        out += `"${m[1]}"`;
        i += m[1]!.length - 1;
      } else out += c;
    }
  }
  return out;
}

/** What a good record reads as: the schema's fields, absent ones null, unknown ones dropped. */
function expected(line: string, schema: RecordType): unknown {
  const r = JSON.parse(line) as Record<string, unknown>;
  const pick = (t: RecordType, o: Record<string, unknown>): Record<string, unknown> =>
    Object.fromEntries(
      Object.entries(t.fields).map(([k, f]) => {
        const v = o[k];
        if (v === undefined || v === null) return [k, null];
        if (typeof v === 'number' && !Number.isFinite(v)) return [k, String(v)];
        if (f.kind === 'record') return [k, pick(f, v as Record<string, unknown>)];
        if (f.kind === 'array' && f.items.kind === 'record') {
          const items = f.items;
          return [
            k,
            (v as Record<string, unknown>[]).map((x) => (x === null ? null : pick(items, x))),
          ];
        }
        return [k, v];
      }),
    );
  return pick(schema, r);
}

/** The stream worker's decoder of a case's source (JSON, no ingest rules: the schema alone). */
const decoders = new Map<Case, RecordDecoder>();

/**
 * The stream's decision and dead-letter reason on a line the batch validators read as a JSON
 * object (lines that are not JSON objects never reach `parseSourceRecord`): null when it
 * accepts it. `/push` words a refused row with the same function (`refusedRecordProblem`).
 */
async function streamReason(c: Case, line: string): Promise<string | null | undefined> {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  let decode = decoders.get(c);
  if (!decode) {
    decode = createRecordDecoder({
      source: 's',
      encoding: 'json',
      schema: c.zod,
      recordType: c.schema,
      avro: createAvroSchemas({ root: tmp.dir, avscFiles: {} }),
      joinKeyFields: new Set(),
    });
    decoders.set(c, decode);
  }
  const accepted = parseSourceRecord(c.zod, c.schema, v).success;
  const r = await decode(Buffer.from(line));
  expect(r.ok, `decoder vs parseSourceRecord on ${line}`).toBe(accepted);
  return r.ok ? null : r.reason;
}

async function check(f: FileCase, c: Case = MAIN): Promise<void> {
  const path = join(tmp.dir, `f-${n++}.jsonl`);
  const text = fileText(f);
  writeFileSync(path, text);
  const js = await byRecord(path, c);
  for (const j of js) {
    if (j.reason === 'invalid JSON' || j.reason === 'not a JSON object') continue;
    // Accepted alike, and refused with the same words: the dead letter's reason is the
    // batch reject's after its code.
    expect(await streamReason(c, j.line), `stream on ${j.line}`).toBe(
      j.reason === null ? null : `schema-invalid: ${j.reason}`,
    );
  }
  for (const typed of [true, false]) {
    const sql = await bySql(path, typed, c);
    const where = `${typed ? 'typed' : 'record-level'} SQL on ${JSON.stringify(text)}`;
    expect(
      sql.map((s) => s.reason),
      where,
    ).toEqual(js.map((j) => j.reason));
    js.forEach((j, i) => {
      if (j.reason === null)
        expect(sql[i]!.v, `${where}, line ${j.line}`).toEqual(expected(j.line, c.schema));
    });
  }
}

const VALIDATORS =
  'batch validators: record-level (reject examples) vs DuckDB SQL (counts, values)';
// 15–30 s a case on a quiet machine; 75–120 s in a whole-suite run at a load of ~20, where two
// timed out at their 75 and 120 s.
describe(VALIDATORS, { timeout: 300_000 }, () => {
  // LARDER_VALIDATION_RUNS=2000 for a longer search (~30 s a thousand runs).
  const runs = Number(process.env.LARDER_VALIDATION_RUNS ?? 150);
  // The properties that load whole sources (`checkReports`) cost ~0.5-1 s a run, most of it the
  // JSON Lines cache writing Parquet (one file at a time, and again after a refused read).
  const sourceRuns = 20;
  it('agree on every line of random files', { timeout: 300_000 + runs * 100 }, async () => {
    await fc.assert(
      fc.asyncProperty(file, (f) => check(f)),
      { numRuns: runs },
    );
  });

  it('agree with the stream on the example’s sources, broken field by field', async () => {
    for (const zod of [UserEventSchema, TransactionSchema]) {
      const schema = describeZod(zod) as RecordType;
      const fields = Object.keys(schema.fields);
      const paths = [
        ...fields.map((f) => [f]),
        ...['userAgent', 'ip', 'platform', 'referrer'].map((f) => ['context', f]),
        ...['productId', 'quantity', 'price', 'category'].map((f) => ['orderItems', '0', f]),
        ['orderItems', '0'],
        ['properties', 'k'],
      ];
      const c: Case = {
        zod,
        schema,
        fields,
        record: schemaRecord(zod, { maxArrayLength: 3 }),
        paths,
      };
      await fc.assert(
        fc.asyncProperty(fileOf(c), (f) => check(f, c)),
        { numRuns: 40 },
      );
    }
  });

  it('refuse the example’s quantity outside the Avro int range or not an integer, with one reason', async () => {
    // transactions.avsc types quantity as an Avro int: the zod schema states its range.
    const schema = describeZod(TransactionSchema) as RecordType;
    const c: Case = {
      zod: TransactionSchema,
      schema,
      fields: Object.keys(schema.fields),
      record: schemaRecord(TransactionSchema),
      paths: [],
    };
    const tx = (quantity: number): string =>
      JSON.stringify({
        transactionId: 't1',
        userId: 'u1',
        orderItems: [{ productId: 'p1', quantity, price: 1, category: 'c' }],
        totalAmount: 1,
        currency: 'EUR',
        paymentMethod: 'card',
        status: 'completed',
        timestamp: 1,
      });
    const cases: [number, string | null][] = [
      [2 ** 31 - 1, null],
      [-(2 ** 31), null],
      [2 ** 31, 'field "orderItems[].quantity": number greater than 2147483647'],
      [-(2 ** 31) - 1, 'field "orderItems[].quantity": number less than -2147483648'],
      [1.5, 'field "orderItems[].quantity": expected int64, got number'],
    ];
    for (const [q, reason] of cases) expect(lineProblem(schema, tx(q)), String(q)).toBe(reason);
    // The DuckDB SQL (typed and record-level) and the stream agree line by line.
    await check(
      { lines: cases.map(([q]) => tx(q)), crlf: false, bom: false, finalNewline: true },
      c,
    );
  });

  it('agree on the cases that once disagreed', async () => {
    const good = JSON.stringify({
      id: 'a',
      code: 'abc',
      qty: 0,
      score: 0.5,
      ratio: null,
      tags: ['😀'],
      n: null,
      kind: 'a',
      ts: 1,
      x: 1.5,
      flag: true,
      attrs: {},
      counts: { c: 1 },
      items: [{ sku: 's', q: 1, p: null }],
      ctx: null,
    });
    await check({ lines: [good, '', good], crlf: true, bom: true, finalNewline: true });
    await check({ lines: [], crlf: false, bom: false, finalNewline: false });
    await check({ lines: [' ', '\u00a0', good], crlf: false, bom: false, finalNewline: false });
  });

  it('agree on every check broken, and on its bounds kept', async () => {
    const good = {
      id: 'a',
      code: 'abc',
      qty: 0,
      score: 0.5,
      ratio: null,
      tags: ['😀'],
      n: null,
      kind: 'a',
      ts: 1,
      x: 1.5,
      flag: true,
      attrs: {},
      counts: {},
      items: [{ sku: 's', q: 1, p: null }],
      ctx: null,
    };
    const edits: [string, unknown][] = [
      ['code', ''],
      ['code', 'a'],
      ['code', 'abcd'],
      ['code', '😀😀'],
      ['code', 'é😀'],
      ['qty', -1],
      ['qty', 1000],
      ['qty', 1001],
      ['score', 0],
      ['score', 1],
      ['score', 1e-300],
      ['ratio', new Raw('1e400')],
      ['ratio', new Raw('-1e400')],
      ['ratio', 1e308],
      ['tags', []],
      ['tags', ['ab', 'cd', 'ef']],
      ['tags', ['ab', 'cd', 'ef', 'gh']],
      ['tags', ['abc']],
      ['tags', ['a']],
      ['tags', ['😀😀']],
      ['items', [{ sku: '', q: 1, p: null }]],
    ];
    const style: Style = { space: false, shuffle: 0, intForm: 'plain' };
    const lines = edits.map(([k, v]) => write({ ...good, [k]: v }, style));
    await check({ lines, crlf: false, bom: false, finalNewline: true });
    // 15 edits break a check (UTF-16 lengths: '😀😀' is 4 long, 'é😀' 3); the rest keep to the bounds.
    const refused = lines.filter((l) => lineProblem(SCHEMA, l) !== null);
    expect(refused).toHaveLength(15);
  });

  /**
   * Writes each file's bytes into a new source folder, loads it with each of `sources` and
   * expects the reports the record-level validator makes of the same lines.
   */
  async function checkReports(
    sources: { s: DuckDBSources; client: DuckDBClient }[],
    files: (string | Buffer)[],
  ): Promise<void> {
    const rules = { timestampField: 'ts', now: NOW, maxFutureSkewMs: 300_000 };
    const dir = `source-${n++}`;
    mkdirSync(join(tmp.dir, dir));
    const expected: RejectReport[] = [];
    for (const [i, bytes] of files.entries()) {
      const path = join(tmp.dir, dir, `part-${i}.jsonl`);
      writeFileSync(path, bytes);
      const report: RejectReport = { source: 's', file: path, count: 0, examples: [] };
      let no = 0;
      for await (const l of jsonlLines(path)) {
        no++;
        const reason = lineProblem(SCHEMA, l, rules);
        if (!reason) continue;
        report.count++;
        if (report.examples.length < 3) report.examples.push({ line: no, reason });
      }
      if (report.count > 0) expected.push(report);
    }
    const spec: BatchSourceSpec = {
      kind: 'batch_source',
      name: 's',
      path: dir,
      bigqueryTable: 's',
      timestampField: 'ts',
      idField: 'id',
      schema: SCHEMA,
      description: '',
    };
    for (const { s, client } of sources) {
      const rejects: RejectReport[] = [];
      await s.load(client, spec, FIELDS, rejects);
      expect(rejects, `files ${JSON.stringify(files.map(String))}`).toEqual(expected);
    }
  }

  const NOW = Date.UTC(2024, 0, 1);
  async function withSources(
    cacheJsonl: boolean[],
    fn: (sources: { s: DuckDBSources; client: DuckDBClient }[]) => Promise<void>,
  ): Promise<void> {
    const home = join(tmp.dir, `home-${n++}`);
    const local = new LocalDatabase({ home, memoryLimit: '1GB', threads: 1 });
    const client = await local.connect();
    try {
      await fn(
        cacheJsonl.map((c) => ({
          client,
          s: new DuckDBSources(
            {
              dataDir: tmp.dir,
              cacheDir: join(home, 'offline-cache'),
              cacheJsonl: c,
              rejectExamples: 3,
              ingest: { clock: () => NOW, maxFutureSkewMs: 300_000 },
            },
            local,
          ),
        })),
      );
    } finally {
      local.close();
    }
  }

  it('reject reports (SQL counts, record-level examples) equal the record-level validator’s own', async () => {
    await withSources([true, false], (sources) =>
      fc.assert(
        fc.asyncProperty(fc.array(file, { minLength: 1, maxLength: 3 }), (files) =>
          checkReports(sources, files.map(fileText)),
        ),
        { numRuns: sourceRuns },
      ),
    );
  });

  it('files DuckDB’s line reader refuses (a lone CR, bytes not UTF-8, a raw U+001F) are read rewritten, reported the same', async () => {
    const damaged = fc
      .tuple(
        fc.array(fc.tuple(line, fc.constantFrom('\n', '\r\n', '\r'), fc.nat(4), fc.nat(40)), {
          minLength: 1,
          maxLength: 10,
        }),
        fc.boolean(),
      )
      .map(([lines, bom]) =>
        Buffer.concat([
          Buffer.from(bom ? '\ufeff' : ''),
          ...lines.flatMap(([l, eol, damage, at]) => {
            const b = Buffer.from(l);
            const cut = Math.min(at, b.length);
            const bad =
              damage === 0 ? [Buffer.from([0xff])] : damage === 1 ? [Buffer.from('\x1f')] : [];
            return [b.subarray(0, cut), ...bad, b.subarray(cut), Buffer.from(eol)];
          }),
        ]),
      );
    await withSources([true, false], (sources) =>
      fc.assert(
        fc.asyncProperty(fc.array(damaged, { minLength: 1, maxLength: 3 }), (files) =>
          checkReports(sources, files),
        ),
        { numRuns: sourceRuns },
      ),
    );
  });
});

/**
 * A join key written as a JSON number reads by its value on every path, however it is spelled
 * (`1`, `1.0`, `1e0`, `10e-1`; `-0` for 0; `1e3` for 1000): raw batch files (export),
 * the export's entity file (JSON Lines), push bodies and stream records (online reads) agree
 * with a brute force keyed by value (property test). What no path can read exactly is refused:
 * `1.5` and 2^53 + 1 for an int64 key; for a string key an entity file's number reads as its
 * value's decimal as JavaScript writes it ("1" for `1.0`, "0.000001" for `1e-6`; property test
 * over fractions). Rule: docs/api.md "Join keys"; on every offline store: the conformance suite.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { applyRepository } from '../../registry/apply.ts';
import { createAvroSchemas } from '../../streaming/avro-schemas.ts';
import { createRecordDecoder } from '../../streaming/record-decoder.ts';
import { openFeatureStore } from '../../store/feature-store.ts';
import { tempDir, tempRepo } from '../support/temp-repo.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const MIN = 60_000;
// Recent: the online store drops tiles whose windows ended (by the wall clock).
const T = Math.floor(Date.now() / MIN) * MIN - 2 * MIN;

const REPO = (keyType: string, field: string) => `
import { z } from 'zod';
import { batchSource, pushSource, col, count, entity, featureView, sum } from 'larder';
export const acct = entity({ name: 'acct', joinKey: 'acct_id', valueType: '${keyType}' });
export const tx = batchSource({ name: 'tx', schema: z.object({ id: z.string(), acctId: ${field}, amount: z.number().int(), ts: z.number().int() }), timestampField: 'ts', idField: 'id' });
export const txPush = pushSource({ name: 'tx_push', batchSource: tx });
export const spend = featureView({ name: 'spend', entities: [acct], source: txPush, keys: { acct_id: col('acctId') }, ttl: '30d',
  features: { total: sum(col('amount'), { window: '1d' }), n: count({ window: '1d' }) } });
`;

/** Spellings of an integer as a JSON number. */
function spellings(k: number): string[] {
  const out = [`${k}`, `${k}.0`, `${k}e0`, `${k * 10}e-1`, `${k}.000e+0`];
  if (k === 0) out.push('-0', '-0.0', '0e5', '-0e-3');
  if (k === 1000) out.push('1e3', '1.0e3', '10e2', '1E3');
  return out;
}

async function project(keyType: string, field: string) {
  const repo = tempRepo({ 'repo.ts': REPO(keyType, field) });
  cleanups.push(repo.cleanup);
  const tmp = tempDir();
  cleanups.push(tmp.cleanup);
  mkdirSync(join(tmp.dir, 'data/raw/tx'), { recursive: true });
  const store = await openFeatureStore({
    root: tmp.dir,
    repo: repo.dir,
    config: { home: 'home', dataDir: 'data', offlineStore: { type: 'duckdb' } },
  });
  cleanups.push(() => store.close());
  await applyRepository(store.repo, store.config.home);
  const exportRows = async (lines: string[], name: string) => {
    const ents = join(tmp.dir, `${name}.jsonl`);
    writeFileSync(ents, lines.map((l) => `${l}\n`).join(''));
    const out = join(tmp.dir, `${name}-out.jsonl`);
    await store.exportHistoricalFeatures({
      features: ['spend:total', 'spend:n'],
      entities: { type: 'file', path: ents },
      out,
    } as never);
    return readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { total: number | null; n: number | null });
  };
  return { store, dir: tmp.dir, exportRows };
}

const KEYS = [0, 1, 7, 1000];

describe('JSON number join keys', () => {
  it('int64: every spelling reads by value on the batch file, entity file, push and stream paths', async () => {
    const decode = createRecordDecoder({
      source: 'tx',
      encoding: 'json',
      schema: z.object({
        id: z.string(),
        acctId: z.number().int(),
        amount: z.number().int(),
        ts: z.number().int(),
      }),
      avro: createAvroSchemas({ registryUrl: undefined, root: '.', avscFiles: {} }),
      joinKeyFields: new Set(['acctId']),
    });
    const record = fc.record({
      key: fc.constantFrom(...KEYS),
      amount: fc.integer({ min: 1, max: 9 }),
      ago: fc.integer({ min: 1, max: 50 }),
      spell: fc.nat(),
      path: fc.constantFrom('push', 'stream'),
    });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(record, { minLength: 1, maxLength: 12 }),
        fc.array(fc.nat(), { minLength: KEYS.length, maxLength: KEYS.length }),
        async (records, querySpell) => {
          run++;
          const p = await project('int64', 'z.number().int()');
          const text = records.map((r, i) => {
            const s = spellings(r.key);
            return `{"id":"r${i}","acctId":${s[r.spell % s.length]},"amount":${r.amount},"ts":${T - r.ago * MIN}}`;
          });
          // The batch file: the export reads it.
          writeFileSync(join(p.dir, 'data/raw/tx/a.jsonl'), text.map((l) => `${l}\n`).join(''));
          // The same records into the online store: push bodies (JSON.parse, as the API's body
          // parser) and stream records (the stream worker's decoder).
          const online: Record<string, unknown>[] = [];
          for (let i = 0; i < text.length; i++) {
            if (records[i]!.path === 'push') online.push(JSON.parse(text[i]!));
            else {
              const d = await decode(Buffer.from(text[i]!));
              expect(d.ok).toBe(true);
              online.push((d as { record: Record<string, unknown> }).record);
            }
          }
          await p.store.push('tx_push', online);
          const q = KEYS.map((k, i) => {
            const s = spellings(k);
            return s[querySpell[i]! % s.length]!;
          });
          const exported = await p.exportRows(
            q.map((s) => `{"acct_id":${s},"event_timestamp":${T}}`),
            `e${run}`,
          );
          const read = await p.store.getOnlineFeatures({
            features: ['spend:total', 'spend:n'],
            entities: { acct_id: q.map((s) => JSON.parse(s) as number) },
            t: T,
          });
          // Brute force by value (no record: 0 in the export, not found online).
          const want = KEYS.map((k) => {
            const mine = records.filter((r) => r.key === k);
            return { total: mine.reduce((a, r) => a + r.amount, 0), n: mine.length };
          });
          expect(exported.map((r) => ({ total: r.total, n: r.n }))).toEqual(want);
          expect(
            KEYS.map((_, i) => ({
              total: read.columns[1]!.values[i] ?? 0,
              n: read.columns[2]!.values[i] ?? 0,
            })),
          ).toEqual(want);
          for (const c of cleanups.splice(0).reverse()) await c();
        },
      ),
      { numRuns: 5, seed: 16_0001 },
    );
  });

  it('int64: 1.5 and 2^53 + 1 are refused on every path, with the row or field', async () => {
    const p = await project('int64', 'z.number().int()');
    for (const bad of ['1.5', '9007199254740993']) {
      await expect(
        p.exportRows([`{"acct_id":${bad},"event_timestamp":${T}}`], 'bad'),
      ).rejects.toMatchObject({
        code: 'LARDER_BAD_REQUEST',
        detail: { reason: 'wrong_type' },
        message: expect.stringMatching(/, row 1: join key acct_id \S+ is not an int64$/),
      });
      await expect(
        p.store.getOnlineFeatures({
          features: ['spend:total'],
          entities: { acct_id: [JSON.parse(bad) as number] },
          t: T,
        }),
      ).rejects.toMatchObject({ code: 'LARDER_BAD_REQUEST', detail: { reason: 'wrong_type' } });
      await expect(
        p.store.push('tx_push', [JSON.parse(`{"id":"x","acctId":${bad},"amount":1,"ts":${T}}`)]),
      ).rejects.toMatchObject({ code: 'LARDER_BAD_REQUEST' });
    }
    // CSV text reads by value too: "1.0" is key 1.
    writeFileSync(
      join(p.dir, 'data/raw/tx/a.jsonl'),
      `{"id":"a","acctId":1,"amount":4,"ts":${T - MIN}}\n`,
    );
    const csv = join(p.dir, 'ents.csv');
    writeFileSync(csv, `acct_id,event_timestamp\n1.0,${T}\n1,${T}\n`);
    const out = join(p.dir, 'csv-out.jsonl');
    await p.store.exportHistoricalFeatures({
      features: ['spend:total'],
      entities: { type: 'file', path: csv },
      out,
    } as never);
    expect(
      readFileSync(out, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).total),
    ).toEqual([4, 4]);
  });

  it("string: an entity file's JSON number reads as its value's decimal, whatever the other rows", async () => {
    const p = await project('string', 'z.string()');
    writeFileSync(
      join(p.dir, 'data/raw/tx/a.jsonl'),
      ['1', '1000', '0', '1.5', '1.0']
        .map((k, i) => `{"id":"r${i}","acctId":"${k}","amount":${10 ** i},"ts":${T - MIN}}\n`)
        .join(''),
    );
    // 1.5 makes DuckDB type the column DOUBLE: `1` must still read as "1", not "1.0".
    const got = await p.exportRows(
      ['1', '1.0', '1e0', '1e3', '-0', '1.5', '"1.0"'].map(
        (k) => `{"acct_id":${k},"event_timestamp":${T}}`,
      ),
      'strings',
    );
    expect(got.map((r) => r.total)).toEqual([1, 1, 1, 10, 100, 1000, 10000]);
    await expect(
      p.exportRows([`{"acct_id":9007199254740993,"event_timestamp":${T}}`], 'big'),
    ).rejects.toMatchObject({ detail: { reason: 'wrong_type' } });
  });
});

describe('JSON number join keys for a string key: the decimal JavaScript writes', () => {
  it("a fraction in an entity file reads as String(value) however it is spelled (0.000001, not DuckDB's 1e-06)", async () => {
    const p = await project('string', 'z.string()');
    // Fractions only: an integer reads through BIGINT (the case above). Exponents from -12 to
    // 15 cover both sides of JavaScript's switch to exponent form (1e-7) and DuckDB's (1e-5).
    const fraction = fc
      .tuple(fc.integer({ min: 1, max: 999_999 }), fc.integer({ min: -12, max: 9 }), fc.boolean())
      .map(([m, e, neg]) => (neg ? -1 : 1) * Number(`${m}e${e}`))
      .filter((d) => !Number.isInteger(d));
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fraction, { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(), { minLength: 6, maxLength: 6 }),
        async (keys, spell) => {
          run++;
          // The source holds each key as the text JavaScript writes; record i has amount 10^i.
          writeFileSync(
            join(p.dir, 'data/raw/tx/a.jsonl'),
            keys
              .map((k, i) =>
                JSON.stringify({ id: `r${i}`, acctId: String(k), amount: 10 ** i, ts: T - MIN }),
              )
              .map((l) => `${l}\n`)
              .join(''),
          );
          const spelled = keys.map((k, i) => {
            const [m, e] = k.toExponential().split('e') as [string, string];
            const padded = `${m.includes('.') ? `${m}0` : `${m}.0`}e${e}`;
            const s = [String(k), k.toExponential(), k.toPrecision(17), padded];
            return s[spell[i]! % s.length]!;
          });
          const got = await p.exportRows(
            spelled.map((s) => `{"acct_id":${s},"event_timestamp":${T}}`),
            `f${run}`,
          );
          // Brute force: each spelling read as JSON does, then written as JavaScript does.
          expect(got.map((r) => r.total)).toEqual(
            spelled.map((s) => {
              const i = keys.findIndex((k) => String(k) === String(JSON.parse(s) as number));
              return i < 0 ? 0 : 10 ** i;
            }),
          );
        },
      ),
      { numRuns: 6, seed: 17_0001 },
    );
  });
});

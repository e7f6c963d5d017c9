/**
 * Differential test of record expressions: for random records (test/support/schema-records.ts)
 * and random well-typed expressions over every operator of the DSL, three implementations
 * must agree on every record — the engines' `definitions/expr/expr-eval.ts` (stream and push paths),
 * the reference's own `reference/reference-expr.ts`, and the DuckDB SQL rendering
 * (`offline/duckdb/sql/render-expr.ts`) run on the records loaded the way exports load them
 * (JSON Lines through `readSourceSql`). Array paths (`items[].x`) are compared per record as
 * the list of element values.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DuckDBClient, toJs } from '../../offline/local/duckdb-client.ts';
import { readSourceSql } from '../../offline/duckdb/sql/read-source.ts';
import { renderColumn, renderExpr } from '../../offline/duckdb/sql/render-expr.ts';
import { formatExpr, type CompareOp, type ExprNode } from '../../definitions/expr/expr.ts';
import { compileExpr, compileFilter, compileMulti } from '../../definitions/expr/expr-eval.ts';
import { inferExprType } from '../../definitions/expr/expr-type.ts';
import { describeZod, type RecordType } from '../../definitions/record-schema.ts';
import { refEval, refKeep, refValues } from '../../reference/reference-expr.ts';
import type { Scalar } from '../../core/types.ts';
import { schemaRecord } from '../support/schema-records.ts';
import { tempDir } from '../support/temp-repo.ts';

const RecordSchema = z.object({
  id: z.number().int(),
  s: z.string().nullable(),
  e: z.enum(['page_view', 'click', 'ü', '😀']).nullable(),
  i: z.number().int().nullable(),
  f: z.number().nullable(),
  b: z.boolean().nullable(),
  o: z.string().optional(),
  m: z.record(z.string(), z.string()),
  ctx: z.object({ p: z.string().nullable(), n: z.number().nullable() }).nullable(),
  items: z.array(
    z.object({ c: z.string().nullable(), q: z.number().int(), x: z.number().nullable() }),
  ),
});
const SCHEMA = describeZod(RecordSchema) as RecordType;
const FIELDS = Object.keys(SCHEMA.fields);

// ---- expressions, by result type ----------------------------------------------------------

const lit = (value: Scalar | null): ExprNode => ({ op: 'lit', value });
const col = (path: string): ExprNode => ({ op: 'col', path });
const STRINGS = ['', ' ', 'click', 'page_view', 'ü', '😀', '\uffff', '19.99', ' 2.5 ', '1e3', 'a'];
const NUMBERS = [0, 1, -1, 2.5, 19.99, 1000, -1e308, 1e308, 2 ** 53, 1e-300];

const strLit = fc.oneof(fc.constantFrom(...STRINGS), fc.string({ unit: 'binary', maxLength: 4 }));
const numLit = fc.oneof(
  fc.constantFrom(...NUMBERS),
  fc.integer({ min: -1000, max: 1000 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);
const strLeaf: fc.Arbitrary<ExprNode> = fc.oneof(
  fc.constantFrom(
    ...[
      's',
      'e',
      'o',
      'm.price',
      'm.a',
      'm.category',
      'm.productId',
      'm.zz',
      'm.__proto__',
      'm.constructor',
      'm.toString',
      'ctx.p',
    ].map(col),
  ),
  strLit.map(lit),
  fc.constant(lit(null)),
);
const numLeaf: fc.Arbitrary<ExprNode> = fc.oneof(
  fc.constantFrom(col('i'), col('f'), col('ctx.n')),
  numLit.map(lit),
  fc.constant(lit(null)),
);
const boolLeaf: fc.Arbitrary<ExprNode> = fc.oneof(
  fc.constant(col('b')),
  fc.boolean().map(lit),
  fc.constant(lit(null)),
);
const cmpOp = fc.constantFrom<CompareOp>('eq', 'ne', 'gt', 'ge', 'lt', 'le');

const { bool: boolExpr } = fc.letrec<{ str: ExprNode; num: ExprNode; bool: ExprNode }>((tie) => ({
  str: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    strLeaf,
    fc
      .array(tie('str'), { minLength: 2, maxLength: 3 })
      .map((args): ExprNode => ({ op: 'coalesce', args })),
  ),
  num: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    numLeaf,
    fc.oneof(tie('str'), tie('num')).map((arg): ExprNode => ({ op: 'toNumber', arg })),
    fc
      .array(tie('num'), { minLength: 2, maxLength: 3 })
      .map((args): ExprNode => ({ op: 'coalesce', args })),
  ),
  bool: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    boolLeaf,
    fc.tuple(cmpOp, fc.oneof(tie('str'), tie('num'), tie('bool'))).chain(([op, left]) =>
      // Same-typed right side: the type checker refuses string vs number.
      (typeOf(left) === 'str' ? tie('str') : typeOf(left) === 'num' ? tie('num') : tie('bool')).map(
        (right): ExprNode => ({ op, left, right }),
      ),
    ),
    fc
      .tuple(tie('str'), fc.array(strLit, { minLength: 1, maxLength: 4 }))
      .map(([arg, values]): ExprNode => ({ op: 'in', arg, values })),
    fc
      .tuple(tie('num'), fc.array(numLit, { minLength: 1, maxLength: 4 }))
      .map(([arg, values]): ExprNode => ({ op: 'in', arg, values })),
    fc
      .tuple(
        fc.constantFrom('isNull', 'isNotNull') as fc.Arbitrary<'isNull' | 'isNotNull'>,
        fc.oneof(tie('str'), tie('num'), tie('bool')),
      )
      .map(([op, arg]): ExprNode => ({ op, arg })),
    tie('bool').map((arg): ExprNode => ({ op: 'not', arg })),
    fc
      .array(tie('bool'), { minLength: 2, maxLength: 3 })
      .map((args): ExprNode => ({ op: 'coalesce', args })),
    fc
      .tuple(
        fc.constantFrom('and', 'or') as fc.Arbitrary<'and' | 'or'>,
        fc.array(tie('bool'), { minLength: 1, maxLength: 3 }),
      )
      .map(([op, args]): ExprNode => ({ op, args })),
  ),
}));

/** The result type of a generated node (by construction). */
function typeOf(n: ExprNode): 'str' | 'num' | 'bool' | 'null' {
  const t = inferExprType(SCHEMA, n);
  if ('error' in t) throw new Error(t.error);
  return t.type === 'string'
    ? 'str'
    : t.type === 'bool'
      ? 'bool'
      : t.type === 'null'
        ? 'null'
        : 'num';
}

const wellTyped = (n: ExprNode): boolean => !('error' in inferExprType(SCHEMA, n));
const exprs = fc.array(boolExpr.filter(wellTyped), { minLength: 1, maxLength: 6 });
const records = fc.array(schemaRecord(RecordSchema), { minLength: 1, maxLength: 25 });

// ---- running the three ----------------------------------------------------------------------

let db: DuckDBClient;
let tmp: { dir: string; cleanup: () => void };
let file = 0;
beforeAll(async () => {
  db = await DuckDBClient.open({ threads: '1' });
  tmp = tempDir();
});
afterAll(() => tmp?.cleanup());

/** Loads records (ids 0…n-1) as an export does, failing on any reject. */
async function load(recs: readonly Record<string, unknown>[]): Promise<Record<string, unknown>[]> {
  const parsed = recs.map(
    (r, id) => JSON.parse(JSON.stringify({ ...r, id })) as Record<string, unknown>,
  );
  const path = join(tmp.dir, `records-${file++}.jsonl`);
  writeFileSync(path, parsed.map((r) => JSON.stringify(r)).join('\n') + '\n');
  await db.run(
    `CREATE OR REPLACE TABLE src AS ${readSourceSql(SCHEMA, FIELDS, { jsonl: [path], parquet: [] })}`,
  );
  const rejects = await db.all('SELECT __reason FROM src WHERE __reason IS NOT NULL');
  expect(rejects, 'records valid under the zod schema are rejected by the SQL loader').toEqual([]);
  return parsed;
}

const same = (a: unknown, b: unknown): boolean =>
  a === b || (typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b));

async function check(recs: Record<string, unknown>[], nodes: readonly ExprNode[]): Promise<void> {
  const parsed = await load(recs);
  const sql = nodes.map((n, i) => `${renderExpr(SCHEMA, n)} AS v${i}`).join(', ');
  const rows = await db.all(`SELECT id, ${sql} FROM src ORDER BY id`);
  nodes.forEach((n, i) => {
    const engine = compileExpr(n);
    const filter = compileFilter(n);
    for (const row of rows) {
      const r = parsed[row.id as number]!;
      const fromSql = toJs(row[`v${i}`]);
      const fromEngine = engine(r);
      const fromRef = refEval(n, r);
      const where = `${formatExpr(n)} on ${JSON.stringify(r)}`;
      expect(
        same(fromRef, fromSql),
        `reference ${String(fromRef)} vs DuckDB ${String(fromSql)}: ${where}`,
      ).toBe(true);
      expect(
        same(fromEngine, fromSql),
        `expr-eval ${String(fromEngine)} vs DuckDB ${String(fromSql)}: ${where}`,
      ).toBe(true);
      expect(filter(r)).toBe(refKeep(n, r));
    }
  });
}

describe('record expressions: expr-eval = reference = DuckDB SQL', () => {
  it('agree on random records and random expressions of every operator', async () => {
    await fc.assert(
      fc.asyncProperty(records, exprs, async (recs, nodes) => check(recs, nodes)),
      { numRuns: 150 },
    );
  }, 120_000);

  // Regressions found by the property above (each failed before its fix).
  const rec = { s: 'x', e: null, i: 5, f: 2.5, b: true, m: { price: ' 1' }, ctx: null, items: [] };
  it('integer literals beyond int64 (2^63, 1e21) are compared as numbers, not a SQL error', async () => {
    await check(
      [rec],
      [
        { op: 'in', arg: col('i'), values: [9223372036854776000] },
        { op: 'lt', left: col('i'), right: lit(1e21) },
        { op: 'gt', left: col('f'), right: lit(-1e300) },
      ],
    );
  });

  it('string literals with NUL characters compare like any other string', async () => {
    await check(
      [{ ...rec, s: 'a\0b' }],
      [
        { op: 'eq', left: col('s'), right: lit('a\0b') },
        { op: 'gt', left: lit('\uffff'), right: lit('\0') },
        { op: 'in', arg: col('s'), values: ['\0', 'a\0b'] },
      ],
    );
  });

  it('toNumber allows only spaces, tabs, CR, LF and FF around the number (not NBSP, VT, U+2028)', async () => {
    const strings = [
      '\u00a01',
      '1\u00a0',
      '\v1',
      '1\v',
      '\u20281',
      '\ufeff1',
      ' \t\r\n\f1.5 \n',
      '\f\r\n\t 1.5\t\t\r\r\f\f',
      '1e3 ',
      ' +.5e1',
      '-5.\n',
      '1e400 ',
      '\t-1e400',
      ' 1e-400',
      '+-1',
      ' inf',
      '1_000',
    ];
    await check(
      strings.map((price) => ({ ...rec, m: { price } })),
      [
        { op: 'isNull', arg: { op: 'toNumber', arg: col('m.price') } },
        { op: 'eq', left: { op: 'toNumber', arg: col('m.price') }, right: lit(1.5) },
      ],
    );
  });

  it('strings compare by code point: U+10000 and emoji sort after U+FFFF', async () => {
    await check(
      [
        { ...rec, s: '😀' },
        { ...rec, s: '\uffff' },
        { ...rec, s: '\u{10000}' },
        { ...rec, s: 'z' },
      ],
      [
        { op: 'gt', left: col('s'), right: lit('\uffff') },
        { op: 'le', left: col('s'), right: lit('\u{10000}') },
        { op: 'lt', left: lit('\uff5e'), right: col('s') },
        { op: 'ge', left: lit('\uffff'), right: lit('\u{10000}') },
      ],
    );
  });

  it('agree on array paths (one value per element, in order)', async () => {
    const paths = ['items[].c', 'items[].q', 'items[].x'];
    await fc.assert(
      fc.asyncProperty(records, async (recs) => {
        const parsed = await load(recs);
        for (const path of paths) {
          const node = col(path);
          const v = renderColumn(SCHEMA, path, { unnested: { items: '__item' } });
          const rows = await db.all(
            `SELECT id, ${v} AS v FROM (SELECT id, UNNEST(items) AS __item, generate_subscripts(items, 1) AS __n FROM src) ORDER BY id, __n`,
          );
          const fromSql = new Map<number, unknown[]>();
          for (const row of rows) {
            const list = fromSql.get(row.id as number) ?? [];
            list.push(row.v);
            fromSql.set(row.id as number, list);
          }
          const engine = compileMulti(node);
          parsed.forEach((r, id) => {
            const expected = fromSql.get(id) ?? [];
            expect(engine(r), `expr-eval ${path} on ${JSON.stringify(r)}`).toEqual(expected);
            expect(refValues(node, r), `reference ${path} on ${JSON.stringify(r)}`).toEqual(
              expected,
            );
          });
        }
      }),
      { numRuns: 60 },
    );
  }, 120_000);
});

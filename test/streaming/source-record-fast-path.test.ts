/**
 * The decoder's fast path (`definitions/source-record-fast-path.ts`) against the slow path it
 * short-cuts (conformToSchema, the int64 range check, zod's safeParse): on records generated
 * from the schema (test/support/schema-records.ts), sent through JSON, and on the same records
 * broken field by field (wrong types, null, absent, out-of-range numbers, NaN, non-plain
 * objects, `__proto__` map keys), whatever the fast path accepts the slow path accepts with the
 * same data, fields in the same order; valid records without oddities are all accepted. Schemas
 * with constructs the fast path does not know get no fast path, and parse as before.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { TransactionSchema, UserEventSchema } from '../../examples/ecommerce/features/schemas.ts';
import {
  INT64_RANGE_PROBLEM,
  describeZod,
  int64OutOfRange,
  type RecordType,
} from '../../definitions/record-schema.ts';
import {
  conformToSchema,
  nullTolerantSchema,
  parseSourceRecord,
} from '../../definitions/source-record.ts';
import { NOT_FAST, sourceRecordFastPath } from '../../definitions/source-record-fast-path.ts';
import { loadRepository } from '../../definitions/load.ts';
import { schemaRecord } from '../support/schema-records.ts';

/** The slow path, as parseSourceRecord reads every record the fast path does not take. */
function slow(schema: z.ZodTypeAny, type: RecordType, raw: unknown) {
  const conformed = conformToSchema(type, raw);
  const at = int64OutOfRange(type, conformed, '');
  if (at !== null) return { success: false as const, message: `${at}: ${INT64_RANGE_PROBLEM}` };
  const r = nullTolerantSchema(schema).safeParse(conformed);
  return r.success
    ? { success: true as const, data: r.data as unknown }
    : { success: false as const, message: JSON.stringify(r.error.issues[0]) };
}

/** `v` with every object's keys listed in order (toStrictEqual ignores key order). */
function keyOrder(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(keyOrder);
  if (v === null || typeof v !== 'object') return v;
  return Object.entries(v).map(([k, x]) => [k, keyOrder(x)]);
}

const Exotic = z.object({
  s: z.string().min(2).max(5),
  l: z.string().length(3).nullable(),
  n: z.number().gt(0).lte(10),
  f: z.number().finite().optional(),
  i: z.number().int().nonnegative().nullable(),
  b: z.boolean(),
  e: z.enum(['a', 'b']).optional().nullable(),
  m: z.record(z.string(), z.number().int().nullable()),
  a: z
    .array(z.object({ x: z.string(), y: z.number().lt(100).nullable() }).passthrough())
    .min(1)
    .max(3),
  o: z
    .object({ p: z.string().nullable(), q: z.array(z.boolean()) })
    .strict()
    .nullable(),
  t: z.array(z.string()).length(2).optional(),
  u: z.string().optional(),
});

const SCHEMAS: [string, z.AnyZodObject][] = [
  ['user_events', UserEventSchema],
  ['transactions', TransactionSchema],
  ['every supported construct', Exotic],
];

const BAD_VALUES: unknown[] = [
  null,
  undefined,
  '',
  'x',
  'abcdef',
  0,
  -1,
  1.5,
  10,
  100,
  2 ** 53,
  -(2 ** 53),
  1e20,
  Number.NaN,
  Infinity,
  true,
  [],
  ['a', 'b'],
  [{ x: 'a', y: 1 }],
  {},
  { a: 1 },
  { p: null, q: [] },
  new Date(0),
  Buffer.from('a'),
  Object.create(null) as object,
  JSON.parse('{"__proto__": 1}') as object,
];

/** Every path to a value inside `v` (object keys and array indexes). */
function paths(v: unknown, at: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [];
  if (Array.isArray(v)) v.forEach((x, i) => out.push([...at, i], ...paths(x, [...at, i])));
  else if (v && typeof v === 'object')
    for (const [k, x] of Object.entries(v)) out.push([...at, k], ...paths(x, [...at, k]));
  return out;
}

/** A deep copy of `v` with the value at `path` replaced (or deleted when `bad` is undefined). */
function broken(v: unknown, path: (string | number)[], bad: unknown): unknown {
  const copy = JSON.parse(JSON.stringify(v)) as unknown;
  let cur = copy as Record<string | number, unknown>;
  for (const p of path.slice(0, -1)) cur = cur[p] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (bad === undefined && !Array.isArray(cur)) delete cur[last];
  else cur[last] = bad;
  return copy;
}

/** Whether `v` holds what the fast path leaves to the slow one: a `__proto__` key, an object that is not plain. */
const odd = (v: unknown): boolean =>
  v !== null &&
  typeof v === 'object' &&
  ((!Array.isArray(v) && Object.getPrototypeOf(v) !== Object.prototype) ||
    Object.hasOwn(v, '__proto__') ||
    Object.values(v).some(odd));

describe('source record fast path', () => {
  for (const [name, schema] of SCHEMAS) {
    const type = describeZod(schema) as RecordType;
    // parseSourceRecord's schema: `.optional()` fields also take null (optional-fields.test.ts).
    const fast = sourceRecordFastPath(nullTolerantSchema(schema), type)!;

    it(`${name}: accepts what the slow path accepts, with the same data`, () => {
      expect(fast).not.toBeNull();
      let accepted = 0;
      fc.assert(
        fc.property(schemaRecord(schema), (record) => {
          const raw = JSON.parse(JSON.stringify(record)) as unknown;
          const want = slow(schema, type, raw);
          const got = fast(raw);
          if (got === NOT_FAST) {
            // Only what needs the slow path's judgement: an invalid record or an odd value.
            expect(want.success && !odd(raw)).toBe(false);
            return;
          }
          accepted++;
          expect(want.success).toBe(true);
          expect(got).toStrictEqual(want.success ? want.data : undefined);
          expect(keyOrder(got)).toStrictEqual(keyOrder(want.success ? want.data : undefined));
          expect(parseSourceRecord(schema, type, raw)).toStrictEqual({ success: true, data: got });
        }),
        { numRuns: 300, seed: 8 },
      );
      // Not vacuous.
      expect(accepted).toBeGreaterThan(50);
    });

    it(`${name}: a broken record is never accepted unless the slow path accepts it`, () => {
      let refused = 0;
      fc.assert(
        fc.property(
          schemaRecord(schema),
          fc.nat(),
          fc.constantFrom(...BAD_VALUES),
          (record, pick, bad) => {
            const raw0 = JSON.parse(JSON.stringify(record)) as unknown;
            const all = paths(raw0);
            const path = all.length ? all[pick % all.length]! : null;
            // An object under a `__proto__` key becomes a prototype in conformToSchema (slow path
            // only: the fast path refuses the key); zod then reads a Buffer's getters and throws.
            if (path?.at(-1) === '__proto__' && bad !== null && typeof bad === 'object') return;
            const raw = path ? broken(raw0, path, bad) : raw0;
            const want = slow(schema, type, raw);
            const got = fast(raw);
            if (got === NOT_FAST) {
              refused++;
              expect(want.success && !odd(raw)).toBe(false);
              // The caller's answer is then the slow path's, reason and all.
              const r = parseSourceRecord(schema, type, raw);
              expect(r.success).toBe(want.success);
              return;
            }
            expect(want.success).toBe(true);
            expect(keyOrder(got)).toStrictEqual(keyOrder(want.success ? want.data : undefined));
          },
        ),
        { numRuns: 600, seed: 9 },
      );
      expect(refused).toBeGreaterThan(100);
    });
  }

  it("has a fast path for a loaded repository's sources (their own copy of zod)", async () => {
    const repo = await loadRepository('examples/ecommerce/features');
    for (const s of repo.streamSources.values())
      expect(sourceRecordFastPath(s.batch.recordSchema, s.batch.spec.schema)).not.toBeNull();
  });

  it('refuses non-objects and records with int64 values beyond ±(2^53 − 1)', () => {
    const type = describeZod(TransactionSchema) as RecordType;
    const fast = sourceRecordFastPath(TransactionSchema, type)!;
    for (const raw of [null, 'x', 1, [], new Date(0)]) expect(fast(raw)).toBe(NOT_FAST);
    const tx = {
      transactionId: 't',
      userId: 'u',
      orderItems: [{ productId: 'p', quantity: 2 ** 53, price: 1, category: 'c' }],
      totalAmount: 1,
      currency: 'USD',
      paymentMethod: 'card',
      status: 'completed',
      timestamp: 1,
    };
    expect(fast(tx)).toBe(NOT_FAST);
    const r = parseSourceRecord(TransactionSchema, type, tx);
    expect(r.success ? null : r.error.issues[0]!.message).toBe(INT64_RANGE_PROBLEM);
    expect(fast({ ...tx, orderItems: [] })).toStrictEqual({ ...tx, orderItems: [] });
  });

  it('leaves schemas with other constructs, or a type that is not theirs, to the slow path', () => {
    const base = { id: z.string() };
    const others: z.ZodTypeAny[] = [
      z.object(base).refine((r) => r.id !== 'x'),
      z.object({ ...base, e: z.string().email() }),
      z.object({ ...base, k: z.number().multipleOf(2) }),
      z.object(base).catchall(z.string()),
      z.object({ ...base, m: z.record(z.string().min(2), z.string()) }),
      z.object({ ...base, r: z.string().regex(/^a/) }),
      z.object({ ...base, constructor: z.string().nullable() }),
    ];
    for (const schema of others) {
      const type = describeZod(schema) as RecordType;
      expect(sourceRecordFastPath(schema, type)).toBeNull();
      const raw = { id: 'x', n: 2, e: 'a@b.c', c: '3', t: ' a ', k: 2, m: {}, r: 'a', extra: 'y' };
      const want = slow(schema, type, raw);
      const got = parseSourceRecord(schema, type, raw);
      expect(got.success).toBe(want.success);
      if (got.success && want.success) expect(got.data).toStrictEqual(want.data);
    }
    const other = describeZod(z.object({ id: z.string().nullable() })) as RecordType;
    expect(sourceRecordFastPath(z.object(base), other)).toBeNull();
  });
});

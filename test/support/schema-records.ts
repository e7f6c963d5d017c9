/**
 * Records generated from a source's zod record schema (fast-check), not from `datagen/`: every
 * record is valid under the schema, but shaped the way real producers send them — nullable
 * fields null, optional fields absent, unknown extra fields (on objects that are not
 * `.strict()`), empty and long arrays and maps, unicode (astral characters, unpaired-looking
 * edge code points, NBSP and other whitespace), numbers as strings (`" 2.5"`, `"1e3"`,
 * `"NaN"`), extreme numbers (±1e308, 5e-324, ±(2^53 − 1); integers stay inside the int64 range every path reads exactly, beyond which records are invalid: `INT64_EXACT_MAX`) and — through `timestampsIn` — many
 * records sharing one timestamp.
 *
 * API (kept small on purpose):
 * - `schemaRecord(schema, options?)`: an arbitrary of one record (`Record<string, unknown>`).
 * - `schemaValue(schema, options?)`: an arbitrary of any zod value (used for nested fields).
 * - `timestampsIn(from, to)`: epoch-ms integers in `[from, to]`, biased to a handful of values
 *   so equal timestamps are common; pass it as an override for the timestamp field.
 * Options: `overrides` (top-level field → arbitrary, e.g. timestamps in the test's range or ids
 * from a small pool so records share keys), `extraFields` (default true), `maxArrayLength`
 * (default 6; one in ten arrays is long, up to 10× that).
 *
 * @example
 * fc.assert(fc.property(fc.array(schemaRecord(UserEventSchema, {
 *   overrides: { timestamp: timestampsIn(T0, T0 + DAY_MS), userId: fc.constantFrom('u1', 'u2', null) },
 * })), (records) => { … }));
 */
import fc from 'fast-check';
import { z } from 'zod';

export interface SchemaRecordOptions {
  /** Top-level field → the arbitrary for its value (used as is; keep it valid for the schema). */
  overrides?: Record<string, fc.Arbitrary<unknown>>;
  /** Unknown extra fields on objects that accept them (not `.strict()`); default true. */
  extraFields?: boolean;
  /** Longest ordinary array or map (default 6); one in ten is up to 10× longer. */
  maxArrayLength?: number;
}

type Check = { kind: string; value?: number; inclusive?: boolean };
const checksOf = (s: z.ZodTypeAny): Check[] =>
  ((s._def as { checks?: Check[] }).checks ?? []) as Check[];

/** Strings producers really send, including numbers as strings and edge whitespace. */
const SPECIAL_STRINGS = [
  '',
  ' ',
  'null',
  '0',
  '19.99',
  ' 2.5 ',
  '+.5e3',
  '1e3',
  '1e999',
  '-0',
  '.',
  'NaN',
  'Infinity',
  '0x10',
  '1_000',
  '\u00a01',
  '\v1',
  '1\n',
  '😀',
  '\uffff',
  'é',
  'e\u0301',
  'x'.repeat(300),
];

function stringArb(s: z.ZodString): fc.Arbitrary<string> {
  let min = 0;
  let max = Infinity;
  for (const c of checksOf(s)) {
    if (c.kind === 'min') min = c.value ?? 0;
    if (c.kind === 'max') max = c.value ?? Infinity;
    if (c.kind === 'length') min = max = c.value ?? 0;
  }
  const maxLength = Math.min(max, Math.max(min, 12));
  return fc
    .oneof(
      { weight: 4, arbitrary: fc.string({ minLength: min, maxLength }) },
      { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: min, maxLength }) },
      { weight: 2, arbitrary: fc.constantFrom(...SPECIAL_STRINGS) },
    )
    .filter((v) => [...v].length >= min && v.length <= max);
}

function numberArb(s: z.ZodNumber): fc.Arbitrary<number> {
  const checks = checksOf(s);
  const isInt = checks.some((c) => c.kind === 'int');
  let min = -Number.MAX_VALUE;
  let max = Number.MAX_VALUE;
  for (const c of checks) {
    if (c.kind === 'min' && c.value !== undefined) min = Math.max(min, c.value);
    if (c.kind === 'max' && c.value !== undefined) max = Math.min(max, c.value);
  }
  const inRange = (v: number): boolean => v >= min && v <= max;
  const special = isInt
    ? [0, 1, -1, 2 ** 31, -(2 ** 31), Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER]
    : [0, 0.1, -0.5, 1e-300, 5e-324, 1e308, -1e308, 2 ** 53 + 2, 123456.789];
  const specials = special.filter(inRange);
  const small = isInt
    ? fc.integer({ min: Math.max(min, -1000), max: Math.min(max, 1000) })
    : fc.double({ min: Math.max(min, -1000), max: Math.min(max, 1000), noNaN: true });
  const wide = isInt
    ? // A filter would rarely pass a narrow range (`.nonnegative().lte(1000)`): bound it instead.
      fc.integer({
        min: Math.max(Math.ceil(min), Number.MIN_SAFE_INTEGER),
        max: Math.min(Math.floor(max), Number.MAX_SAFE_INTEGER),
      })
    : fc.double({ noNaN: true, noDefaultInfinity: true, min, max });
  // JSON has no -0: records cross JSON on every path, so generate +0 only.
  return fc
    .oneof(
      { weight: 5, arbitrary: small },
      { weight: 2, arbitrary: wide },
      ...(specials.length ? [{ weight: 2, arbitrary: fc.constantFrom(...specials) }] : []),
    )
    .map((v) => (Object.is(v, -0) ? 0 : v));
}

function arrayLengths(
  minLength: number,
  maxLength: number,
  max: number,
): { minLength: number; maxLength: number }[] {
  const short = Math.min(maxLength, Math.max(minLength, max));
  const long = Math.min(maxLength, Math.max(minLength, max * 10));
  return [
    { minLength, maxLength: short },
    { minLength: Math.min(short, long), maxLength: long },
  ];
}

/** An arbitrary of values of any zod schema a source may use (see definitions/record-schema.ts). */
export function schemaValue(
  schema: z.ZodTypeAny,
  options: SchemaRecordOptions = {},
): fc.Arbitrary<unknown> {
  const max = options.maxArrayLength ?? 6;
  const s = schema;
  if (s instanceof z.ZodNullable)
    return fc.option(schemaValue(s.unwrap() as z.ZodTypeAny, options), { nil: null, freq: 4 });
  if (s instanceof z.ZodOptional)
    return fc.option(schemaValue(s.unwrap() as z.ZodTypeAny, options), {
      nil: undefined,
      freq: 4,
    });
  if (s instanceof z.ZodDefault) return schemaValue(s._def.innerType as z.ZodTypeAny, options);
  if (s instanceof z.ZodEffects) return schemaValue(s.innerType() as z.ZodTypeAny, options);
  if (s instanceof z.ZodString) return stringArb(s);
  if (s instanceof z.ZodEnum) return fc.constantFrom(...(s.options as string[]));
  if (s instanceof z.ZodLiteral) return fc.constant(s.value as unknown);
  if (s instanceof z.ZodNumber) return numberArb(s);
  if (s instanceof z.ZodBoolean) return fc.boolean();
  if (s instanceof z.ZodArray) {
    const item = schemaValue(s.element as z.ZodTypeAny, options);
    const def = s._def as {
      minLength: { value: number } | null;
      maxLength: { value: number } | null;
    };
    const [short, long] = arrayLengths(def.minLength?.value ?? 0, def.maxLength?.value ?? 1e4, max);
    return fc.oneof(
      { weight: 9, arbitrary: fc.array(item, short) },
      { weight: 1, arbitrary: fc.array(item, long) },
    );
  }
  if (s instanceof z.ZodRecord) {
    const value = schemaValue(s.valueSchema as z.ZodTypeAny, options);
    const key = fc.oneof(
      {
        weight: 3,
        arbitrary: fc.constantFrom(
          'productId',
          'price',
          'category',
          'a',
          'b',
          '__proto__',
          'constructor',
        ),
      },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
    );
    const [short, long] = arrayLengths(0, 1e4, max);
    return fc
      .oneof(
        { weight: 9, arbitrary: fc.array(fc.tuple(key, value), short) },
        { weight: 1, arbitrary: fc.array(fc.tuple(key, value), long) },
      )
      .map((entries) => {
        const out: Record<string, unknown> = {};
        // `__proto__` as a plain own key, like JSON.parse makes it.
        for (const [k, v] of entries) Object.defineProperty(out, k, own(v));
        return out;
      });
  }
  if (s instanceof z.ZodObject) return objectArb(s, options, {});
  throw new Error(`schema-records: zod type ${s.constructor.name} is not supported`);
}

const own = (value: unknown): PropertyDescriptor => ({
  value,
  enumerable: true,
  writable: true,
  configurable: true,
});

function objectArb(
  s: z.AnyZodObject,
  options: SchemaRecordOptions,
  overrides: Record<string, fc.Arbitrary<unknown>>,
): fc.Arbitrary<Record<string, unknown>> {
  const shape = s.shape as Record<string, z.ZodTypeAny>;
  const fields: Record<string, fc.Arbitrary<unknown>> = {};
  const optional: string[] = [];
  for (const [k, f] of Object.entries(shape)) {
    fields[k] = overrides[k] ?? schemaValue(f instanceof z.ZodOptional ? f.unwrap() : f, options);
    if (f.isOptional() && !overrides[k]) optional.push(k);
  }
  const required = Object.keys(shape).filter((k) => !optional.includes(k));
  const base = fc.record(fields, { requiredKeys: required });
  const strict = (s._def as { unknownKeys?: string }).unknownKeys === 'strict';
  if (strict || options.extraFields === false) return base;
  const extra = fc.dictionary(
    fc.string({ minLength: 1, maxLength: 6 }).filter((k) => !(k in shape)),
    fc.oneof(fc.string(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constant(null)),
    { maxKeys: 3 },
  );
  return fc.tuple(base, extra).map(([r, x]) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(x)) Object.defineProperty(out, k, own(v));
    return Object.assign(out, r);
  });
}

/** One record valid under `schema` (a zod object), shaped as described at the top. */
export function schemaRecord(
  schema: z.AnyZodObject,
  options: SchemaRecordOptions = {},
): fc.Arbitrary<Record<string, unknown>> {
  return objectArb(schema, options, options.overrides ?? {}).filter(
    (r) => schema.safeParse(r).success,
  );
}

/** Epoch-ms integers in `[from, to]`, often one of a few shared values (equal timestamps). */
export function timestampsIn(from: number, to: number): fc.Arbitrary<number> {
  const span = to - from;
  const shared = [from, to, from + Math.floor(span / 2), from + Math.floor(span / 3)];
  return fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom(...shared) },
    { weight: 3, arbitrary: fc.integer({ min: from, max: to }) },
  );
}

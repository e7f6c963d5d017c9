/**
 * Arbitrary records valid under a source's zod schema, derived from the schema itself (not from
 * `datagen/`): every nullable field null some of the time, optional fields missing, enums over
 * all their values, maps with a few likely and some arbitrary keys, arrays empty or long,
 * strings from small pools (so keys collide and filters match) or arbitrary unicode, numbers
 * zero, negative, tiny or huge (within the zod checks: `int`, `nonnegative`, `min(1)`, `max` …). The
 * source's timestamp and id fields come from the caller (event times on hop boundaries,
 * unique ids).
 *
 * @example
 * const arb = recordArb(UserEventSchema, { timestamp: timeArb, eventId: fc.constant('') });
 */
import fc from 'fast-check';
import { z } from 'zod';

/** Strings that keys, filters and `mode` share, so generated values meet. */
export const STRING_POOL = ['page_view', 'click', 'completed', 'books', 'EUR', 'mobile', ''];
/**
 * Entity-key-like strings: unicode (`é` composed and decomposed, which differ in bytes only),
 * the stores' separators (`:`, `|`, NUL, a Redis Cluster hash tag `{…}`, JSON of a composite
 * key), the empty string, Object.prototype's member names, line separators and control
 * characters, a BOM, and strings that read as other JSON values.
 */
export const KEY_POOL = [
  'u1',
  'u2',
  'p1',
  'p2',
  'é',
  'e\u0301',
  '日本',
  'a:b',
  'a|b',
  ' ',
  '🛒',
  '',
  '\u0000',
  'u1\u0000',
  '{u1}',
  '["u1"]',
  // Never generated before session 14: names of Object.prototype's members (a key or value
  // written through `obj[k]` would reach the prototype), line and paragraph separators and
  // control characters (JSON Lines, CSV and log lines), a BOM, and strings that read as
  // other JSON values.
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'a\nb',
  'a\r\nb',
  '\t',
  'a\u2028b',
  '\u0085',
  '\ufeffu1',
  'null',
  'NaN',
  '-0',
  '1e3',
];
/** Strings for `toNumber`: plain decimals and everything that is not quite one. */
export const DECIMAL_POOL = [
  '10',
  '19.99',
  '-3',
  '0',
  '-0',
  '.5',
  '5.',
  ' 5.5 ',
  '1e2',
  'abc',
  '0x10',
  'Infinity',
  '1e400',
  '007',
  '+4',
  '9007199254740993',
];
/** Map keys worth hitting (the ones the generated expressions read) and some others. */
const MAP_KEYS = ['productId', 'price', 'category', 'amount', 'qty']; // qty: a key the source does not declare (records may carry any)

const stringArb = (minLength: number): fc.Arbitrary<string> =>
  fc
    .oneof(
      { weight: 16, arbitrary: fc.constantFrom(...STRING_POOL, ...KEY_POOL) },
      { weight: 2, arbitrary: fc.constantFrom(...DECIMAL_POOL) },
      { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }) },
      { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 40, maxLength: 60 }) },
      // 1024 and 1026 UTF-8 bytes: on and over `ingest.maxKeyBytes`, for the views keyed by it.
      { weight: 1, arbitrary: fc.constantFrom('é'.repeat(512), 'é'.repeat(513)) },
    )
    .filter((s) => s.length >= minLength);

function numberArb(s: z.ZodNumber, options: RecordArbOptions): fc.Arbitrary<number> {
  const min = s.minValue ?? -Number.MAX_SAFE_INTEGER;
  const max = s.maxValue ?? Infinity;
  const inRange = (n: number): boolean => n >= min && n <= max;
  if (s.isInt) {
    // The int64 edges, the int32 ones (an Avro int: the example's quantity) and the schema's own.
    const edges = [
      Number.MAX_SAFE_INTEGER,
      -Number.MAX_SAFE_INTEGER,
      2 ** 31,
      2 ** 31 - 1,
      -(2 ** 31),
    ];
    if (s.minValue !== null) edges.push(s.minValue);
    if (s.maxValue !== null && Number.isFinite(s.maxValue)) edges.push(s.maxValue);
    return fc
      .oneof(
        { weight: 4, arbitrary: fc.integer({ min: -5, max: 10 }) },
        { weight: 2, arbitrary: fc.integer({ min: -1_000_000, max: 1_000_000 }) },
        { weight: 1, arbitrary: fc.constantFrom(...edges) },
      )
      .filter(inRange);
  }
  return fc
    .oneof(
      { weight: 4, arbitrary: fc.constantFrom(0, -0, 1, -1, 0.1, 19.99, 100, -250.5) },
      { weight: 2, arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true }) },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          5e-324,
          -5e-324,
          1e-300,
          1e15,
          2 ** 53 + 2,
          1e300,
          -1e300,
          ...(options.floatOverflow ? [1e308, Number.MAX_VALUE, -Number.MAX_VALUE] : []),
        ),
      },
    )
    .filter(inRange);
}

export interface RecordArbOptions {
  /** Arbitrary extra fields next to the schema's (rejected by a strict schema's `parse`). */
  unknownFields?: boolean;
  /** Numbers whose sums overflow to ±Infinity (1e308, ±`Number.MAX_VALUE`). */
  floatOverflow?: boolean;
}

/** Values valid under `schema`; `fields` overrides top-level fields. */
export function recordArb(
  schema: z.ZodTypeAny,
  fields: Record<string, fc.Arbitrary<unknown>> = {},
  options: RecordArbOptions = {},
): fc.Arbitrary<Record<string, unknown>> {
  return valueArb(schema, fields, options) as fc.Arbitrary<Record<string, unknown>>;
}

function valueArb(
  s: z.ZodTypeAny,
  fields: Record<string, fc.Arbitrary<unknown>>,
  options: RecordArbOptions,
): fc.Arbitrary<unknown> {
  if (s instanceof z.ZodNullable)
    return fc.option(valueArb(s.unwrap() as z.ZodTypeAny, {}, options), { freq: 3 });
  if (s instanceof z.ZodOptional)
    return fc.option(valueArb(s.unwrap() as z.ZodTypeAny, {}, options), {
      freq: 3,
      nil: undefined,
    });
  if (s instanceof z.ZodString) return stringArb(s.minLength ?? 0);
  if (s instanceof z.ZodEnum) return fc.constantFrom(...(s.options as string[]));
  if (s instanceof z.ZodNumber) return numberArb(s, options);
  if (s instanceof z.ZodBoolean) return fc.boolean();
  if (s instanceof z.ZodRecord) {
    const values = valueArb(s.valueSchema as z.ZodTypeAny, {}, options);
    return fc.dictionary(
      fc
        .oneof({ weight: 4, arbitrary: fc.constantFrom(...MAP_KEYS) }, fc.string({ maxLength: 6 }))
        .filter((k) => k !== '__proto__'),
      values,
      { maxKeys: 5, noNullPrototype: true },
    );
  }
  if (s instanceof z.ZodArray) {
    const item = valueArb(s.element as z.ZodTypeAny, {}, options);
    return fc.oneof(
      { weight: 4, arbitrary: fc.array(item, { maxLength: 4 }) },
      { weight: 1, arbitrary: fc.array(item, { minLength: 40, maxLength: 60 }) },
    );
  }
  if (s instanceof z.ZodObject) {
    const shape = s.shape as Record<string, z.ZodTypeAny>;
    const model: Record<string, fc.Arbitrary<unknown>> = {};
    for (const [k, v] of Object.entries(shape)) model[k] = fields[k] ?? valueArb(v, {}, options);
    const obj = fc.record(model, { noNullPrototype: true });
    if (!options.unknownFields) return obj.map(dropUndefined);
    const extra = fc.option(
      fc.dictionary(
        fc.string({ minLength: 1, maxLength: 8 }).filter((k) => !(k in shape) && k !== '__proto__'),
        fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.array(fc.integer())),
        { minKeys: 1, maxKeys: 2, noNullPrototype: true },
      ),
      { freq: 3 },
    );
    return fc.tuple(obj, extra).map(([o, e]) => dropUndefined({ ...o, ...(e ?? {}) }));
  }
  throw new Error(`no arbitrary for zod type ${s.constructor.name}`);
}

/** A missing optional field is absent, not `undefined` (JSON and Kafka carry no undefined). */
const dropUndefined = (o: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/**
 * The fast path of {@link parseSourceRecord} (`definitions/source-record.ts`): one pass over a
 * raw record that drops unknown fields, fills missing nullable fields with null and checks what
 * the zod schema checks, for schemas made only of the zod constructs below. It returns exactly
 * what `conformToSchema` + the int64 range check + `schema.safeParse` return for a valid
 * record (a new object, fields in schema order), and {@link NOT_FAST} for anything else — an
 * invalid record, but also anything unusual (a map key `__proto__`, a non-plain object, an
 * int64 beyond ±(2^53 − 1)) — so the caller takes the slow path, which decides and words the
 * reason as before. A record the fast path accepts is one the slow path accepts with the same
 * data (test/streaming/source-record-fast-path.test.ts checks this against zod).
 *
 * Supported: `z.object` (strip, strict or passthrough; no catchall), `z.string` (`min`, `max`,
 * `length`), `z.number` (`int`, `min`/`max` inclusive or not, `finite`), `z.boolean`,
 * `z.enum`, `z.record(z.string(), …)`, `z.array` (`min`, `max`, `length`), `.nullable()`,
 * `.optional()`. Anything else (refinements, transforms, defaults, coercion, other checks)
 * leaves the schema without a fast path: every record takes the slow path. The checks are read
 * by `definitions/field-checks.ts`, which also gives them to the batch validators.
 *
 * Why: the slow path (a conformed copy, then zod's parse and its garbage) was about a quarter
 * of the stream worker's CPU per event on `recommendation_v1`'s views; the decoder's CPU per
 * event fell to less than half (bench/stream-cpu.ts, README "Stream worker (details)").
 */
import type { z } from 'zod';
import type { FieldType, RecordType } from './record-schema.ts';
import { INT64_EXACT_MAX } from './record-schema.ts';
import { arrayChecks, numberChecks, stringChecks } from './field-checks.ts';

/** The fast path's answer when the slow path must decide. */
export const NOT_FAST: unique symbol = Symbol('not-fast');

type Fast = (v: unknown) => unknown;

/** A compiled zod node: its fast parser and the field type `describeZod` gives it. */
interface Compiled {
  fast: Fast;
  type: FieldType;
}

/**
 * The slice of zod's internal definitions read here. Nodes are told apart by `typeName`, not
 * `instanceof`: a repository is loaded in its own module namespace (`definitions/load.ts`), so
 * its schemas are built from another copy of zod's classes.
 */
interface Def {
  typeName?: string;
  checks?: { kind: string; value?: unknown; inclusive?: boolean }[];
  coerce?: boolean;
  innerType?: z.ZodTypeAny;
  values?: readonly string[];
  shape?: () => Record<string, z.ZodTypeAny>;
  catchall?: z.ZodTypeAny;
  unknownKeys?: string;
  keyType?: z.ZodTypeAny;
  valueType?: z.ZodTypeAny;
  type?: z.ZodTypeAny;
  exactLength?: { value: number } | null;
  minLength?: { value: number } | null;
  maxLength?: { value: number } | null;
}

const defOf = (s: z.ZodTypeAny): Def => s._def as Def;

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' &&
  v !== null &&
  !Array.isArray(v) &&
  Object.getPrototypeOf(v) === Object.prototype;

function compileString(def: Def): Fast | null {
  if (def.coerce) return null;
  const { checks, other } = stringChecks(def);
  if (other.length > 0) return null;
  const min = checks.minLength ?? 0;
  const max = checks.maxLength ?? Infinity;
  return (v) => (typeof v === 'string' && v.length >= min && v.length <= max ? v : NOT_FAST);
}

function compileNumber(def: Def): { fast: Fast; int: boolean } | null {
  if (def.coerce) return null;
  const { checks, other, int } = numberChecks(def);
  if (other.length > 0) return null;
  const finite = checks.finite === true;
  const lo = checks.min ?? -Infinity;
  const loIncl = checks.minExclusive !== true;
  const hi = checks.max ?? Infinity;
  const hiIncl = checks.maxExclusive !== true;
  const fast: Fast = (v) => {
    if (typeof v !== 'number' || v !== v) return NOT_FAST; // NaN: zod's "nan", not a number
    // An int64 beyond ±(2^53 − 1) has its own reason (the slow path's int64 range check).
    if (int && (!Number.isInteger(v) || Math.abs(v) > INT64_EXACT_MAX)) return NOT_FAST;
    if (finite && !Number.isFinite(v)) return NOT_FAST;
    if (loIncl ? v < lo : v <= lo) return NOT_FAST;
    if (hiIncl ? v > hi : v >= hi) return NOT_FAST;
    return v;
  };
  return { fast, int };
}

function compileObject(def: Def, nullable: boolean): Compiled | null {
  if (!def.catchall || defOf(def.catchall).typeName !== 'ZodNever') return null;
  if (!['strip', 'strict', 'passthrough'].includes(def.unknownKeys ?? '')) return null;
  const names: string[] = [];
  const parsers: Fast[] = [];
  const nullables: boolean[] = [];
  const fields: Record<string, FieldType> = {};
  for (const [name, field] of Object.entries(def.shape!())) {
    // Names an object inherits (`constructor`, `__proto__`) read differently: slow path.
    if (name in Object.prototype) return null;
    const c = compile(field);
    if (!c) return null;
    names.push(name);
    parsers.push(c.fast);
    nullables.push(c.type.nullable);
    fields[name] = c.type;
  }
  const n = names.length;
  const fast: Fast = (v) => {
    if (!isPlainObject(v)) return NOT_FAST;
    const out: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
      const name = names[i]!;
      let x = v[name];
      // conformToSchema: a missing nullable (or optional) field reads as null.
      if (x === undefined) {
        if (!nullables[i]) return NOT_FAST;
        x = null;
      }
      const y = parsers[i]!(x);
      if (y === NOT_FAST) return NOT_FAST;
      out[name] = y;
    }
    return out;
  };
  return { fast, type: { kind: 'record', nullable, fields } };
}

function compileRecord(def: Def, nullable: boolean): Compiled | null {
  const key = defOf(def.keyType!);
  if (key.typeName !== 'ZodString' || key.coerce || (key.checks ?? []).length > 0) return null;
  const value = compile(def.valueType!);
  if (!value) return null;
  const item = value.fast;
  const fast: Fast = (v) => {
    if (!isPlainObject(v)) return NOT_FAST;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) {
      if (k === '__proto__') return NOT_FAST;
      const y = item(v[k]);
      if (y === NOT_FAST) return NOT_FAST;
      out[k] = y;
    }
    return out;
  };
  return { fast, type: { kind: 'map', nullable, values: value.type } };
}

function compileArray(def: Def, nullable: boolean): Compiled | null {
  const element = compile(def.type!);
  if (!element) return null;
  const item = element.fast;
  const checks = arrayChecks(def);
  const min = checks.minItems ?? 0;
  const max = checks.maxItems ?? Infinity;
  const fast: Fast = (v) => {
    if (!Array.isArray(v) || v.length < min || v.length > max) return NOT_FAST;
    const out: unknown[] = new Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const y = item(v[i]);
      if (y === NOT_FAST) return NOT_FAST;
      out[i] = y;
    }
    return out;
  };
  return { fast, type: { kind: 'array', nullable, items: element.type } };
}

/** One zod node compiled, or null when the node (or one inside it) is not supported. */
function compile(schema: z.ZodTypeAny): Compiled | null {
  let acceptsNull = false;
  let nullable = false;
  let def = defOf(schema);
  while (def.typeName === 'ZodNullable' || def.typeName === 'ZodOptional') {
    nullable = true;
    // Optional alone passes null on to its inner type, which refuses it: only Nullable takes null.
    if (def.typeName === 'ZodNullable') acceptsNull = true;
    def = defOf(def.innerType!);
  }
  let c: Compiled | null = null;
  switch (def.typeName) {
    case 'ZodString': {
      const fast = compileString(def);
      c = fast && { fast, type: { kind: 'string', nullable } };
      break;
    }
    case 'ZodNumber': {
      const n = compileNumber(def);
      c = n && { fast: n.fast, type: { kind: n.int ? 'int64' : 'float64', nullable } };
      break;
    }
    case 'ZodBoolean':
      if (!def.coerce)
        c = {
          fast: (v) => (typeof v === 'boolean' ? v : NOT_FAST),
          type: { kind: 'bool', nullable },
        };
      break;
    case 'ZodEnum': {
      const values = new Set(def.values);
      c = {
        fast: (v) => (typeof v === 'string' && values.has(v) ? v : NOT_FAST),
        type: { kind: 'string', nullable, enum: [...def.values!] },
      };
      break;
    }
    case 'ZodObject':
      c = compileObject(def, nullable);
      break;
    case 'ZodRecord':
      c = compileRecord(def, nullable);
      break;
    case 'ZodArray':
      c = compileArray(def, nullable);
      break;
  }
  if (!c || !acceptsNull) return c;
  const inner = c.fast;
  return { fast: (v) => (v === null ? null : inner(v)), type: c.type };
}

/** Whether two field types are the same, map keys aside (neither path reads them when parsing). */
function sameType(a: FieldType, b: FieldType): boolean {
  if (a.kind !== b.kind || a.nullable !== b.nullable) return false;
  switch (a.kind) {
    case 'string': {
      const e = (b as typeof a).enum;
      return a.enum === undefined
        ? e === undefined
        : e !== undefined && a.enum.length === e.length && a.enum.every((x, i) => x === e[i]);
    }
    case 'record': {
      const f = (b as typeof a).fields;
      const ka = Object.keys(a.fields);
      const kb = Object.keys(f);
      return (
        ka.length === kb.length && ka.every((k, i) => k === kb[i] && sameType(a.fields[k]!, f[k]!))
      );
    }
    case 'map':
      return sameType(a.values, (b as typeof a).values);
    case 'array':
      return sameType(a.items, (b as typeof a).items);
    default:
      return true;
  }
}

const cache = new WeakMap<z.ZodTypeAny, WeakMap<RecordType, Fast | null>>();

/**
 * The fast parser of a source's record schema, or null when the schema has a construct the
 * fast path does not know or `type` is not the schema's own description (cached per pair).
 */
export function sourceRecordFastPath(schema: z.ZodTypeAny, type: RecordType): Fast | null {
  let byType = cache.get(schema);
  if (!byType) cache.set(schema, (byType = new WeakMap()));
  let f = byType.get(type);
  if (f === undefined) {
    const c = defOf(schema).typeName === 'ZodObject' ? compile(schema) : null;
    f = c && sameType(c.type, type) ? c.fast : null;
    byType.set(type, f);
  }
  return f;
}

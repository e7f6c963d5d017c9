/**
 * A JSON description of a source's record schema, derived once from its zod schema. It is what
 * the registry stores and what engines use: SQL column types for DuckDB and BigQuery, path
 * resolution and type checks for record expressions.
 */
import { z } from 'zod';
import { splitArrayPath } from './expr/expr.ts';
import type { ValueType } from '../core/types.ts';
import {
  arrayChecks,
  numberChecks,
  someChecks,
  stringChecks,
  type FieldChecks,
  type ZodCheckDef,
} from './field-checks.ts';

/** `checks`: the zod checks every ingest path applies (`definitions/field-checks.ts`), if any. */
export type FieldType =
  | { kind: 'string'; nullable: boolean; enum?: string[]; checks?: FieldChecks }
  | { kind: 'int64'; nullable: boolean; checks?: FieldChecks }
  | { kind: 'float64'; nullable: boolean; checks?: FieldChecks }
  | { kind: 'bool'; nullable: boolean }
  /** `keys`: the map's known keys, when the source declares them (`mapKeys`); else any key. */
  | { kind: 'map'; nullable: boolean; values: FieldType; keys?: string[] }
  | { kind: 'array'; nullable: boolean; items: FieldType; checks?: FieldChecks }
  | { kind: 'record'; nullable: boolean; fields: Record<string, FieldType> };

export type RecordType = Extract<FieldType, { kind: 'record' }>;

/**
 * The int64 values every path reads exactly: JavaScript's safe integers, ±(2^53 − 1). A larger
 * JSON integer (`1e20`) is rejected with {@link int64RangeMessage} by the batch validators (JS
 * and SQL), the stream decoder and `/push` alike, instead of being rounded on one path and
 * read as NULL on another.
 */
export const INT64_EXACT_MAX = Number.MAX_SAFE_INTEGER;

export const INT64_RANGE_PROBLEM = `outside the int64 range read exactly on every path (±${INT64_EXACT_MAX})`;

export function int64RangeMessage(label: string): string {
  return `field "${label}": ${INT64_RANGE_PROBLEM}`;
}

/** The label (`orderItems[].quantity`) of the first int64 value of `v` outside ±(2^53 − 1), or null. */
export function int64OutOfRange(type: FieldType, v: unknown, label: string): string | null {
  if (v === null || v === undefined) return null;
  switch (type.kind) {
    case 'int64':
      return typeof v === 'number' && Math.abs(v) > INT64_EXACT_MAX ? label : null;
    case 'record': {
      if (typeof v !== 'object' || Array.isArray(v)) return null;
      for (const [k, f] of Object.entries(type.fields)) {
        const p = int64OutOfRange(
          f,
          (v as Record<string, unknown>)[k],
          label ? `${label}.${k}` : k,
        );
        if (p) return p;
      }
      return null;
    }
    case 'map':
      if (typeof v !== 'object' || Array.isArray(v)) return null;
      for (const x of Object.values(v as Record<string, unknown>)) {
        const p = int64OutOfRange(type.values, x, `${label}.*`);
        if (p) return p;
      }
      return null;
    case 'array':
      if (!Array.isArray(v)) return null;
      for (const x of v) {
        const p = int64OutOfRange(type.items, x, `${label}[]`);
        if (p) return p;
      }
      return null;
    default:
      return null;
  }
}

/**
 * Why a zod construct that changes the data is refused in a source schema: batch files are read
 * as they are (typed by DuckDB), so a default, transform or coercion would apply on the stream
 * and `/push` (zod parses there) and not to the same records in files — two semantics.
 */
const changesData = (where: string, what: string): string =>
  `${where}: ${what} changes the data, which batch files cannot do (they are read as they are), so a source schema cannot use it; declare the field as it arrives (.nullable() for a field that may be missing) and derive values in the features`;

/** Translates a zod schema into a {@link FieldType}; throws on zod constructs sources cannot use. */
export function describeZod(schema: z.ZodTypeAny, where = 'record'): FieldType {
  let nullable = false;
  let s: z.ZodTypeAny = schema;
  for (;;) {
    if (s instanceof z.ZodNullable || s instanceof z.ZodOptional) {
      nullable = true;
      s = s.unwrap() as z.ZodTypeAny;
    } else if (s instanceof z.ZodDefault) {
      throw new Error(changesData(where, '.default()'));
    } else if (s instanceof z.ZodEffects) {
      const effect = (s._def as { effect: { type: string } }).effect.type;
      if (effect !== 'refinement')
        throw new Error(
          changesData(where, effect === 'preprocess' ? 'z.preprocess()' : '.transform()'),
        );
      s = s.innerType() as z.ZodTypeAny;
    } else break;
  }
  if ((s._def as { coerce?: boolean }).coerce === true)
    throw new Error(changesData(where, 'z.coerce'));
  if (s instanceof z.ZodString) {
    const checks = someChecks(stringChecks(s._def as ZodCheckDef).checks);
    return checks ? { kind: 'string', nullable, checks } : { kind: 'string', nullable };
  }
  if (s instanceof z.ZodEnum)
    return { kind: 'string', nullable, enum: [...(s.options as string[])] };
  if (s instanceof z.ZodNumber) {
    const n = numberChecks(s._def as ZodCheckDef);
    const checks = someChecks(n.checks);
    const kind = n.int ? 'int64' : 'float64';
    return checks ? { kind, nullable, checks } : { kind, nullable };
  }
  if (s instanceof z.ZodBigInt) return { kind: 'int64', nullable };
  if (s instanceof z.ZodBoolean) return { kind: 'bool', nullable };
  if (s instanceof z.ZodRecord) {
    return {
      kind: 'map',
      nullable,
      values: describeZod(s.valueSchema as z.ZodTypeAny, `${where}.*`),
    };
  }
  if (s instanceof z.ZodArray) {
    const items = describeZod(s.element as z.ZodTypeAny, `${where}[]`);
    const checks = someChecks(arrayChecks(s._def as ZodCheckDef));
    return checks ? { kind: 'array', nullable, items, checks } : { kind: 'array', nullable, items };
  }
  if (s instanceof z.ZodObject) {
    const fields: Record<string, FieldType> = {};
    for (const [k, v] of Object.entries(s.shape as Record<string, z.ZodTypeAny>)) {
      fields[k] = describeZod(v, `${where}.${k}`);
    }
    return { kind: 'record', nullable, fields };
  }
  throw new Error(
    `${where}: zod type ${s.constructor.name} is not supported in a source schema; use string, number, boolean, enum, record, array or object`,
  );
}

export interface ResolvedPath {
  type: ValueType;
  nullable: boolean;
  /** True when the path goes through an array (`orderItems[].category`): one value per element. */
  multi: boolean;
}

/** Resolves a record-expression path against a schema, or returns why it cannot. */
export function resolvePath(schema: RecordType, path: string): ResolvedPath | { error: string } {
  const split = splitArrayPath(path);
  if (split) {
    const arr = resolveField(schema, split.array);
    if ('error' in arr) return arr;
    if (arr.kind !== 'array') return { error: `"${split.array}" is a ${arr.kind}, not an array` };
    if (arr.items.kind !== 'record') return { error: `"${split.array}" items are not records` };
    const inner = resolvePath(arr.items, split.element);
    if ('error' in inner) return { error: `${inner.error} (in the items of "${split.array}")` };
    return { ...inner, multi: true };
  }
  const f = resolveField(schema, path);
  if ('error' in f) return f;
  if (f.kind === 'map' || f.kind === 'array' || f.kind === 'record') {
    return { error: `"${path}" is a ${f.kind}; select one of its scalar fields` };
  }
  return { type: f.kind, nullable: f.nullable, multi: false };
}

/** The field (the schema's own object) a path of record fields names, or why it names none. */
export function fieldOf(schema: RecordType, path: string): FieldType | { error: string } {
  const r = resolveField(schema, path);
  if ('error' in r) return r;
  let cur: FieldType = schema;
  for (const p of path.split('.')) {
    if (cur.kind !== 'record') return { error: `"${path}" goes through a ${cur.kind}` };
    cur = cur.fields[p]!;
  }
  return cur;
}

function resolveField(schema: RecordType, path: string): FieldType | { error: string } {
  let cur: FieldType = schema;
  let nullable = false;
  const parts = path.split('.');
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] as string;
    if (cur.kind === 'record') {
      const next: FieldType | undefined = cur.fields[p];
      if (!next) {
        const known = Object.keys(cur.fields).join(', ');
        const at = parts.slice(0, i).join('.') || 'the record';
        return { error: `"${path}": ${at} has no field "${p}" (fields: ${known})` };
      }
      cur = next;
    } else if (cur.kind === 'map') {
      cur = cur.values;
      nullable = true; // a map key may be absent
    } else {
      return {
        error: `"${path}": "${parts.slice(0, i).join('.')}" is a ${cur.kind}, not a record or map`,
      };
    }
    nullable ||= cur.nullable;
  }
  return { ...cur, nullable } as FieldType;
}

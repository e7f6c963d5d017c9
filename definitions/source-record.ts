/**
 * One reading of a raw source record on every path (stream, push; the batch path's
 * `offline/validate-record.ts` follows the same rules in SQL): fields the source schema does
 * not know are ignored, at any depth (records inside records, arrays and maps), and a missing
 * nullable field reads as null (`.optional()` and `.nullable()` both mean "may be absent or
 * null", as on the batch path). So a producer may add optional fields, or drop nullable ones,
 * before the feature repository's schema catches up. What the schema knows is then validated
 * with its zod schema (types, enums, refinements) exactly as before; int64 values beyond
 * ±(2^53 − 1) are refused first, as on the batch path (`int64OutOfRange`).
 *
 * @example
 * const r = parseSourceRecord(batch.recordSchema, batch.spec.schema, JSON.parse(line));
 * if (r.success) use(r.data);
 */
import { z } from 'zod';
import { isObject } from '../core/json-text.ts';
import {
  INT64_RANGE_PROBLEM,
  int64OutOfRange,
  type FieldType,
  type RecordType,
} from './record-schema.ts';
import { NOT_FAST, sourceRecordFastPath } from './source-record-fast-path.ts';

/** `raw` reduced to the fields `type` knows, missing nullable fields set to null. */
export function conformToSchema(type: FieldType, raw: unknown): unknown {
  switch (type.kind) {
    case 'record': {
      if (!isObject(raw)) return raw;
      const out: Record<string, unknown> = {};
      for (const [name, field] of Object.entries(type.fields)) {
        const v = raw[name];
        if (v === undefined) {
          if (field.nullable) out[name] = null;
        } else out[name] = conformToSchema(field, v);
      }
      return out;
    }
    case 'array':
      return Array.isArray(raw) ? raw.map((x) => conformToSchema(type.items, x)) : raw;
    case 'map': {
      if (!isObject(raw)) return raw;
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(raw)) out[k] = conformToSchema(type.values, v);
      return out;
    }
    default:
      return raw;
  }
}

interface NodeDef {
  typeName?: string;
  innerType?: z.ZodTypeAny;
  schema?: z.ZodTypeAny;
  type?: z.ZodTypeAny;
  valueType?: z.ZodTypeAny;
  shape?: () => Record<string, z.ZodTypeAny>;
}

const tolerantSchemas = new WeakMap<z.ZodTypeAny, z.ZodTypeAny>();

/**
 * `schema` with every `.optional()` field also taking null: a source field declared
 * `.optional()` or `.nullable()` may be absent or null on every path (the batch path reads both
 * as NULL; {@link conformToSchema} reads an absent one as null), so a record without an
 * `.optional()` field is valid on the stream and on `/push` too. Nodes are rebuilt with the
 * schema's own constructors (a repository loads its own copy of zod); refinements, transforms
 * and defaults are kept; the same object comes back when nothing changes.
 */
export function nullTolerantSchema(schema: z.ZodTypeAny): z.ZodTypeAny {
  const cached = tolerantSchemas.get(schema);
  if (cached) return cached;
  const def = schema._def as NodeDef;
  const Node = schema.constructor as new (def: unknown) => z.ZodTypeAny;
  const rebuilt = (key: 'innerType' | 'schema' | 'type' | 'valueType'): z.ZodTypeAny => {
    const inner = def[key]!;
    const next = nullTolerantSchema(inner);
    return next === inner ? schema : new Node({ ...def, [key]: next });
  };
  let out = schema;
  switch (def.typeName) {
    case 'ZodOptional': {
      const inner = nullTolerantSchema(def.innerType!);
      const innerName = (inner._def as NodeDef).typeName;
      out = new Node({
        ...def,
        innerType:
          innerName === 'ZodNullable' || innerName === 'ZodOptional' ? inner : inner.nullable(),
      });
      break;
    }
    case 'ZodNullable':
    case 'ZodDefault':
      out = rebuilt('innerType');
      break;
    case 'ZodEffects':
      out = rebuilt('schema');
      break;
    case 'ZodArray':
      out = rebuilt('type');
      break;
    case 'ZodRecord':
      out = rebuilt('valueType');
      break;
    case 'ZodObject': {
      const shape = def.shape!();
      const next: Record<string, z.ZodTypeAny> = {};
      let changed = false;
      for (const [k, v] of Object.entries(shape)) {
        next[k] = nullTolerantSchema(v);
        changed ||= next[k] !== v;
      }
      if (changed) out = new Node({ ...def, shape: () => next });
      break;
    }
  }
  tolerantSchemas.set(schema, out);
  return out;
}

/**
 * Validates `raw` with the source's zod schema after {@link conformToSchema}. A valid record of
 * a plain schema is read in one pass instead (`source-record-fast-path.ts`: same data); every
 * other record takes the path below.
 */
export function parseSourceRecord(
  schema: z.ZodTypeAny,
  type: RecordType,
  raw: unknown,
): z.SafeParseReturnType<unknown, unknown> {
  schema = nullTolerantSchema(schema);
  const fast = sourceRecordFastPath(schema, type);
  if (fast) {
    const data = fast(raw);
    if (data !== NOT_FAST) return { success: true, data };
  }
  const conformed = conformToSchema(type, raw);
  // zod's int() takes 1e20; the batch path rejects what no path can hold exactly.
  const at = int64OutOfRange(type, conformed, '');
  if (at !== null)
    return {
      success: false,
      error: new z.ZodError([{ code: 'custom', path: [at], message: INT64_RANGE_PROBLEM }]),
    };
  return schema.safeParse(conformed);
}

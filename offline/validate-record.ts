/**
 * Why a raw record violates its source schema (or null when it does not). The rules are the
 * DuckDB store's (`offline/duckdb/sql/read-source.ts`) transcribed to TypeScript, so reject
 * counts from SQL and the examples shown with line numbers agree:
 *
 * - a line that is not JSON → `invalid JSON`; not an object → `not a JSON object`; blank lines are
 *   not records and are skipped. A string escaping half a surrogate pair (`"\ud800"`) is
 *   invalid JSON too: `JSON.parse` reads it, but it has no UTF-8 form for DuckDB to load.
 * - a non-nullable field missing or null → `missing required field "context.platform"`
 * - a wrong JSON type → `field "timestamp": expected int64, got string`
 * - a string outside its enum → `field "eventType": "x" is not one of page_view, click, …`
 * - an int64 beyond ±(2^53 − 1) → `field "timestamp": outside the int64 range read exactly …`
 * - a value breaking one of the field's zod checks (`definitions/field-checks.ts`) →
 *   `field "eventId": string shorter than 1`; an array's length is checked before its items.
 * - fields are checked in schema order, depth first; map values and array items in order.
 * - then, with the ingest rules: an event time later than now + `ingest.maxFutureSkew` or
 *   outside JavaScript's date range (`ingestProblem`, shared with push and the stream).
 * Unknown fields are ignored.
 */
import { isObject, loneSurrogateIn } from '../core/json-text.ts';
import {
  INT64_EXACT_MAX,
  int64RangeMessage,
  type FieldType,
  type RecordType,
} from '../definitions/record-schema.ts';
import { checkProblem } from '../definitions/field-checks.ts';

export function jsonTypeName(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'object';
  return typeof v;
}

/** Each field kind's name in a wrong-type reason (`expected int64, got string`). */
export const KIND_NAME: Record<FieldType['kind'], string> = {
  string: 'string',
  int64: 'int64',
  float64: 'float64',
  bool: 'bool',
  map: 'map',
  array: 'array',
  record: 'record',
};

function typeOk(f: FieldType, v: unknown): boolean {
  switch (f.kind) {
    case 'string':
      return typeof v === 'string';
    case 'int64':
      return typeof v === 'number' && Number.isInteger(v);
    case 'float64':
      return typeof v === 'number';
    case 'bool':
      return typeof v === 'boolean';
    case 'array':
      return Array.isArray(v);
    default:
      return isObject(v);
  }
}

/** A schema problem: the field at fault (`orderItems[].quantity`) and what is wrong with it. */
export interface SchemaProblem {
  field: string;
  message: string;
}

/** The first problem of a field value (`label` names it in the message). */
export function fieldProblem(f: FieldType, v: unknown, label: string): string | null {
  return fieldIssue(f, v, label)?.message ?? null;
}

function fieldIssue(f: FieldType, v: unknown, label: string): SchemaProblem | null {
  const at = (message: string | null): SchemaProblem | null =>
    message === null ? null : { field: label, message };
  if (v === undefined || v === null) {
    return f.nullable ? null : at(`missing required field "${label}"`);
  }
  if (!typeOk(f, v))
    return at(`field "${label}": expected ${KIND_NAME[f.kind]}, got ${jsonTypeName(v)}`);
  switch (f.kind) {
    case 'int64':
      return at(
        Math.abs(v as number) > INT64_EXACT_MAX
          ? int64RangeMessage(label)
          : checkProblem(f.checks, v, label),
      );
    case 'float64':
      return at(checkProblem(f.checks, v, label));
    case 'string':
      return at(
        f.enum && !f.enum.includes(v as string)
          ? `field "${label}": ${JSON.stringify(v)} is not one of ${f.enum.join(', ')}`
          : checkProblem(f.checks, v, label),
      );
    case 'record':
      for (const [k, sub] of Object.entries(f.fields)) {
        const p = fieldIssue(sub, (v as Record<string, unknown>)[k], `${label}.${k}`);
        if (p) return p;
      }
      return null;
    case 'map':
      for (const x of Object.values(v as Record<string, unknown>)) {
        const p = fieldIssue(f.values, x, `${label}.*`);
        if (p) return p;
      }
      return null;
    case 'array': {
      const c = checkProblem(f.checks, v, label);
      if (c) return at(c);
      for (const x of v as unknown[]) {
        const p = fieldIssue(f.items, x, `${label}[]`);
        if (p) return p;
      }
      return null;
    }
    default:
      return null;
  }
}

/**
 * Why `record` breaks `schema`, worded as batch files' rejects are (the module comment lists the
 * messages), with the field at fault (`(record)` for a value that is not an object), or null.
 * Push (`row 3: <message>`) and the stream's dead letters (`schema-invalid: <message>`) word a
 * record their zod schema refuses with it, so one problem reads the same on every path.
 */
export function schemaProblem(schema: RecordType, record: unknown): SchemaProblem | null {
  if (!isObject(record)) return { field: '(record)', message: 'not a JSON object' };
  for (const [k, f] of Object.entries(schema.fields)) {
    const p = fieldIssue(f, record[k], k);
    if (p) return p;
  }
  return null;
}

/**
 * The problem of a record the source's zod schema refused (`parseSourceRecord`): the batch
 * wording of {@link schemaProblem}, or, for a zod rule the batch validator does not apply
 * (refinements, `.regex`, `.email`, …: docs/definitions.md), zod's first issue in the same form
 * (`field "code": Invalid`).
 */
export function refusedRecordProblem(
  schema: RecordType,
  record: unknown,
  issue: { path: (string | number)[]; message: string },
): SchemaProblem {
  const p = schemaProblem(schema, record);
  if (p) return p;
  const field = issue.path.join('.') || '(record)';
  return { field, message: `field "${field}": ${issue.message}` };
}

/** The ingest rules a batch file's records are checked with (key sizes are not checked). */
export interface BatchIngestRules {
  timestampField: string;
  now: number;
  maxFutureSkewMs: number;
}

/** Why a parsed record violates `schema` (then the ingest rules, if given), or null. */
export function recordProblem(
  schema: RecordType,
  record: unknown,
  ingest?: BatchIngestRules,
): string | null {
  const s = schemaProblem(schema, record);
  if (s) return s.message;
  if (!ingest) return null;
  const p = ingestProblem(record as Record<string, unknown>, ingest.timestampField, [], {
    ...ingest,
    maxKeyBytes: Infinity,
  });
  return p ? p.message : null;
}

/**
 * The longest JSON Lines line read, in UTF-8 bytes (DuckDB's line reader, `read_csv`'s
 * `max_line_size`, refuses longer ones; they are rewritten as {@link LONG_LINE_MARK}).
 */
export const MAX_LINE_BYTES = 16_777_216;

/** The reason of a line longer than {@link MAX_LINE_BYTES}. */
export const LINE_TOO_LONG = `line longer than ${MAX_LINE_BYTES} bytes (16 MiB)`;

/**
 * What a line longer than {@link MAX_LINE_BYTES} is rewritten as (`jsonl-rewrite.ts`), which the
 * SQL of a rewritten file rejects with {@link LINE_TOO_LONG}. Not JSON: a line of a file that
 * reads exactly so is rewritten as `{`, invalid JSON either way.
 */
export const LONG_LINE_MARK = 'larder: line longer than 16 MiB';

/**
 * Whether `line` is longer than {@link MAX_LINE_BYTES} in UTF-8 (a UTF-16 unit is at most 3
 * bytes, so shorter strings are not measured).
 */
export const lineTooLong = (line: string): boolean =>
  line.length > MAX_LINE_BYTES / 3 && Buffer.byteLength(line) > MAX_LINE_BYTES;

/** Why one JSON Lines line is rejected, or null (blank lines are skipped, not rejected). */
export function lineProblem(
  schema: RecordType,
  line: string,
  ingest?: BatchIngestRules,
): string | null {
  if (line.trim() === '') return null;
  if (lineTooLong(line)) return LINE_TOO_LONG;
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return 'invalid JSON';
  }
  if (loneSurrogateIn(line, v)) return 'invalid JSON';
  return recordProblem(schema, v, ingest);
}

/** JavaScript's date range: `new Date(ms)` is valid for |ms| ≤ 8.64e15. */
export const MAX_DATE_MS = 8.64e15;

/** The limits every ingest path (push, stream, batch files) applies on top of the schema. */
export interface IngestLimits {
  /** Wall clock, epoch ms. */
  now: number;
  /** Records stamped later than `now + maxFutureSkewMs` are rejected. */
  maxFutureSkewMs: number;
  /** Join-key values (strings) longer than this many UTF-8 bytes are rejected. */
  maxKeyBytes: number;
}

export interface IngestProblem {
  /** Stable reason code (the stream's dead-letter reasons start with it). */
  code: 'future-timestamp' | 'timestamp-out-of-range' | 'key-too-long';
  /** The record field at fault. */
  field: string;
  /** What is wrong, naming the field and the setting to change. */
  message: string;
}

/**
 * Why a schema-valid record cannot be ingested: its event time lies beyond JavaScript's date
 * range or later than now + the allowed skew (`ingest.maxFutureSkew`: such a record would win
 * every later `last` comparison), or a join-key path (`userId`, `properties.productId`)
 * holds a value longer than `ingest.maxKeyBytes` (it would become an online-store key). Null
 * when it can.
 *
 * @example
 * ingestProblem({ timestamp: Date.now() + 365 * 86_400_000 }, 'timestamp', [], { now: Date.now(), maxFutureSkewMs: 300_000, maxKeyBytes: 1024 });
 * // { code: 'future-timestamp', field: 'timestamp', message: 'field "timestamp": 2027-… is later than now + 5m …' }
 */
export function ingestProblem(
  record: Readonly<Record<string, unknown>>,
  timestampField: string,
  joinKeyFields: Iterable<string>,
  limits: IngestLimits,
): IngestProblem | null {
  const ts = record[timestampField];
  if (typeof ts === 'number') {
    if (!Number.isFinite(ts) || Math.abs(ts) > MAX_DATE_MS)
      return {
        code: 'timestamp-out-of-range',
        field: timestampField,
        message: outOfRangeMessage(timestampField, String(ts)),
      };
    const latest = limits.now + limits.maxFutureSkewMs;
    if (ts > latest)
      return {
        code: 'future-timestamp',
        field: timestampField,
        message: futureMessage(timestampField, String(ts), limits),
      };
  }
  for (const k of joinKeyFields) {
    const v = k.includes('.') ? valueAt(record, k) : record[k];
    if (typeof v !== 'string' || v.length * 3 <= limits.maxKeyBytes) continue;
    const bytes = Buffer.byteLength(v, 'utf8');
    if (bytes > limits.maxKeyBytes)
      return {
        code: 'key-too-long',
        field: k,
        message: `field "${k}": a join key of ${bytes} bytes; the limit is ${limits.maxKeyBytes} (ingest.maxKeyBytes)`,
      };
  }
  return null;
}

/**
 * The parts of each dotted path seen (`properties.productId` → `['properties', 'productId']`):
 * the few join-key paths of the repository, read once per record by the stream worker, so
 * split once instead of once per record.
 */
const pathParts = new Map<string, readonly string[]>();

/** The value at a dotted path (`properties.productId`), through objects and maps only. */
function valueAt(record: Readonly<Record<string, unknown>>, path: string): unknown {
  let parts = pathParts.get(path);
  if (!parts) pathParts.set(path, (parts = path.split('.')));
  let v: unknown = record;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (!isObject(v) || !Object.hasOwn(v, part)) return undefined;
    v = v[part];
  }
  return v;
}

const skewText = (ms: number): string => (ms % 60_000 === 0 ? `${ms / 60_000}m` : `${ms / 1000}s`);

/**
 * The reason of a record stamped later than now + the skew; `ts` is its event time as text
 * (so the SQL mirror, `offline/duckdb/sql/read-source.ts`, builds the same message).
 */
export function futureMessage(
  field: string,
  ts: string,
  limits: { now: number; maxFutureSkewMs: number },
): string {
  const latest = new Date(limits.now + limits.maxFutureSkewMs).toISOString();
  return `field "${field}": ${ts} is later than now + ${skewText(limits.maxFutureSkewMs)} (${latest}); raise ingest.maxFutureSkew if clocks differ more`;
}

/** The reason of a record stamped outside JavaScript's date range. */
export const outOfRangeMessage = (field: string, ts: string): string =>
  `field "${field}": ${ts} is outside JavaScript's date range (±8.64e15 ms)`;

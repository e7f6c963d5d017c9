/**
 * Kafka message value → validated source record, or the reason it is bad. JSON (UTF-8), or
 * Avro in the Confluent wire format: magic byte 0, a 4-byte big-endian schema id, the Avro
 * binary body. A JSON source also accepts wire-format Avro (JSON never starts with a 0 byte).
 */
import { LONE_SURROGATE_MESSAGE, loneSurrogateIn } from '../core/json-text.ts';
import type { z } from 'zod';
import { ingestProblem, refusedRecordProblem } from '../offline/validate-record.ts';
import { LarderError } from '../core/errors.ts';
import { describeZod, type RecordType } from '../definitions/record-schema.ts';
import { nullTolerantSchema, parseSourceRecord } from '../definitions/source-record.ts';
import { NOT_FAST, sourceRecordFastPath } from '../definitions/source-record-fast-path.ts';
import type { AvroSchemas } from './avro-schemas.ts';

export type DecodeResult =
  { ok: true; record: Record<string, unknown> } | { ok: false; reason: string };

export interface DecoderOptions {
  source: string;
  encoding: 'json' | 'avro';
  schema: z.ZodTypeAny;
  /** The batch source's `spec.schema` (default: described from `schema`). */
  recordType?: RecordType;
  avro: AvroSchemas;
  /** Top-level fields the source's views read entity keys from (for the `missing-join-key` reason). */
  joinKeyFields: ReadonlySet<string>;
  /**
   * The record paths those keys read (`properties.productId`), checked against
   * `ingest.maxKeyBytes`; default: {@link joinKeyFields}.
   */
  joinKeyPaths?: ReadonlySet<string>;
  /**
   * The shared ingest rules (`offline/validate-record.ts`), checked after the schema: the
   * record's event-time field, the wall clock, `ingest.maxFutureSkew` and `ingest.maxKeyBytes`.
   */
  ingest?: {
    timestampField: string;
    clock: () => number;
    maxFutureSkewMs: number;
    maxKeyBytes: number;
  };
}

/** avsc decodes records to class instances with enumerable prototype methods: keep own data only. */
function toPlain(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(toPlain);
  if (v === null || typeof v !== 'object' || Buffer.isBuffer(v)) return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) out[k] = toPlain((v as Record<string, unknown>)[k]);
  return out;
}

/**
 * Reasons start with a stable code: `unparseable`, `bad-magic-byte`, `schema-invalid`,
 * `missing-join-key`, and from the ingest rules (`offline/validate-record.ts`)
 * `future-timestamp`, `timestamp-out-of-range`, `key-too-long`. Fields the schema does not know are ignored and missing nullable fields
 * read as null (`definitions/source-record.ts`); Avro bodies are resolved from their writer schema
 * to the repository's. Rejects (instead of answering) only when the record cannot be judged now:
 * a schema registry that is down (LARDER_SCHEMA_REGISTRY_UNAVAILABLE, transient).
 */
export type RecordDecoder = (value: Buffer | null) => Promise<DecodeResult>;

/**
 * @example
 * const decode = createRecordDecoder({ source: 'user_events', encoding: 'json', schema: UserEventSchema, avro, joinKeyFields: new Set(['userId']) });
 * const r = await decode(message.value);
 */
export function createRecordDecoder(opts: DecoderOptions): RecordDecoder {
  const type = opts.recordType ?? (describeZod(opts.schema) as RecordType);
  // Resolved once, not per record: parseSourceRecord's fast path for this schema (its three
  // cache lookups and its result object per record were a few percent of the decode CPU).
  const fast = sourceRecordFastPath(nullTolerantSchema(opts.schema), type);
  const ing = opts.ingest;
  const keyPaths = opts.joinKeyPaths ?? opts.joinKeyFields;
  // The ingest limits, `now` set per record (ingestProblem reads them synchronously).
  const limits = ing
    ? { now: 0, maxFutureSkewMs: ing.maxFutureSkewMs, maxKeyBytes: ing.maxKeyBytes }
    : null;
  const accept = (record: Record<string, unknown>): DecodeResult => {
    if (!ing || !limits) return { ok: true, record };
    limits.now = ing.clock();
    const p = ingestProblem(record, ing.timestampField, keyPaths, limits);
    return p ? { ok: false, reason: `${p.code}: ${p.message}` } : { ok: true, record };
  };
  const validate = (raw: unknown): DecodeResult => {
    const data = fast ? fast(raw) : NOT_FAST;
    if (data !== NOT_FAST) return accept(data as Record<string, unknown>);
    const r = parseSourceRecord(opts.schema, type, raw);
    if (r.success) return accept(r.data as Record<string, unknown>);
    // Worded as batch files' rejects and push's 400 are (`offline/validate-record.ts`).
    const p = refusedRecordProblem(type, raw, r.error.issues[0]!);
    const raw0 =
      raw && typeof raw === 'object' ? (raw as Record<string, unknown>)[p.field] : undefined;
    const missing =
      opts.joinKeyFields.has(p.field) && (raw0 === undefined || raw0 === null || raw0 === '');
    return {
      ok: false,
      reason: `${missing ? 'missing-join-key' : 'schema-invalid'}: ${p.message}`,
    };
  };
  return async (value) => {
    if (!value || value.length === 0) return { ok: false, reason: 'unparseable: empty value' };
    if (value[0] === 0 && value.length >= 5) {
      let decoded: unknown;
      try {
        decoded = toPlain(
          await opts.avro.decode(opts.source, value.readUInt32BE(1), value.subarray(5)),
        );
      } catch (e) {
        if (e instanceof LarderError && e.retriable) throw e;
        return { ok: false, reason: `unparseable: Avro: ${(e as Error).message}` };
      }
      return validate(decoded);
    }
    if (opts.encoding === 'avro')
      return {
        ok: false,
        reason: `bad-magic-byte: expected 0 (Confluent wire format), got ${value[0]}`,
      };
    let parsed: unknown;
    const text = value.toString('utf8');
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      return { ok: false, reason: `unparseable: JSON: ${(e as Error).message}` };
    }
    if (loneSurrogateIn(text, parsed))
      return { ok: false, reason: `unparseable: JSON: ${LONE_SURROGATE_MESSAGE}` };
    return validate(parsed);
  };
}

import { z } from 'zod';
import { DefinitionError, type Problem } from '../../core/errors.ts';
import { describeZod, fieldOf, resolvePath, type RecordType } from '../record-schema.ts';
import {
  CLEANUP_POLICIES,
  type BatchSourceSpec,
  type PushSourceSpec,
  type StreamSourceSpec,
  type TopicSettingsSpec,
} from '../spec.ts';
import { callSite } from './call-site.ts';
import { NAME_HINT, NAME_RE, parseOptions } from './checks.ts';
import { parseDuration } from '../../core/duration.ts';
import { isDefinition, makeDefinition, type Definition } from './definition.ts';
import { sourceExpectOption, sourceExpectations } from './expectations.ts';

const BatchSourceOptions = z
  .object({
    name: z.string().regex(NAME_RE, NAME_HINT),
    schema: z.custom<z.ZodTypeAny>(
      (v) => v instanceof z.ZodType,
      'must be a zod schema (z.object({...}))',
    ),
    path: z.string().min(1).optional(),
    bigqueryTable: z.string().min(1).optional(),
    timestampField: z.string().min(1),
    idField: z.string().min(1),
    mapKeys: z.record(z.string(), z.array(z.string().min(1)).min(1)).optional(),
    description: z.string().default(''),
    expect: sourceExpectOption().optional(),
  })
  .strict();

export type BatchSourceDef = Definition<BatchSourceSpec> & {
  /** Validates one raw record. */
  readonly recordSchema: z.ZodTypeAny;
};

/**
 * A batch source: raw records under `$LARDER_DATA_DIR/<path>` (JSON Lines or Parquet) for the
 * DuckDB store, or a BigQuery table. `timestampField` (epoch ms) is the event time; `idField`
 * the unique record id. `mapKeys` declares the known keys of map fields
 * (`{ properties: ['productId', 'price'] }`): expressions reading another key are refused as
 * typos; records may still carry any key.
 */
export function batchSource(options: z.input<typeof BatchSourceOptions>): BatchSourceDef {
  const at = callSite();
  const o = parseOptions(BatchSourceOptions, options, 'batch source', at);
  const object = `batch source "${o.name}"`;
  let schema: RecordType;
  try {
    const d = describeZod(o.schema);
    if (d.kind !== 'record') throw new Error('the schema must be a z.object({...})');
    schema = d;
  } catch (e) {
    throw new DefinitionError([{ at, object, field: 'schema', message: (e as Error).message }]);
  }
  const keyProblems: Problem[] = [];
  for (const [path, keys] of Object.entries(o.mapKeys ?? {})) {
    const field = `mapKeys.${path}`;
    const f = fieldOf(schema, path);
    if ('error' in f) keyProblems.push({ at, object, field, message: f.error });
    else if (f.kind !== 'map')
      keyProblems.push({ at, object, field, message: `"${path}" is a ${f.kind}, not a map` });
    else f.keys = [...new Set(keys)];
  }
  if (keyProblems.length > 0) throw new DefinitionError(keyProblems);
  for (const [field, want] of [
    ['timestampField', ['int64']],
    ['idField', ['string', 'int64']],
  ] as const) {
    const r = resolvePath(schema, o[field]);
    if ('error' in r) throw new DefinitionError([{ at, object, field, message: r.error }]);
    if (!(want as readonly string[]).includes(r.type) || r.nullable || r.multi) {
      throw new DefinitionError([
        {
          at,
          object,
          field,
          message: `"${o[field]}" must be a non-null ${want.join(' or ')} field, not ${r.type}${r.nullable ? ' (nullable)' : ''}`,
        },
      ]);
    }
  }
  const expectProblems: Problem[] = [];
  const expect = o.expect && sourceExpectations(o.expect, schema, { at, object }, expectProblems);
  if (expectProblems.length > 0) throw new DefinitionError(expectProblems);
  const spec: BatchSourceSpec = {
    kind: 'batch_source',
    name: o.name,
    path: o.path ?? `raw/${o.name}`,
    bigqueryTable: o.bigqueryTable ?? o.name,
    timestampField: o.timestampField,
    idField: o.idField,
    schema,
    description: o.description,
    ...(expect ? { expect } : {}),
  };
  return makeDefinition(spec, at, { recordSchema: o.schema });
}

const isBatch = (v: unknown): v is BatchSourceDef =>
  isDefinition(v) && v.spec.kind === 'batch_source';

const StreamSourceOptions = z
  .object({
    name: z.string().regex(NAME_RE, NAME_HINT),
    topic: z
      .string()
      .regex(/^[a-zA-Z0-9._-]+$/, 'Kafka topic names use letters, digits, ".", "_" and "-"'),
    encoding: z.enum(['json', 'avro']).default('json'),
    avroSchema: z.string().optional(),
    batchSource: z.custom<BatchSourceDef>(isBatch, 'must be a batchSource(...) definition'),
    topicSettings: z
      .object({
        partitions: z.number().int().positive(),
        // Kafka stores the replication factor as a 16-bit integer.
        replicationFactor: z.number().int().positive().max(32767).optional(),
        retention: z.string().min(1).optional(),
        cleanupPolicy: z.enum(CLEANUP_POLICIES).optional(),
      })
      .strict()
      .optional(),
    description: z.string().default(''),
  })
  .strict();

/** A declared retention in ms: a duration, or -1 for `'forever'`. */
function retentionMs(text: string, at: string, source: string): number {
  if (text === 'forever') return -1;
  const ms = parseDuration(text);
  if (typeof ms === 'number') return ms;
  throw new DefinitionError([
    {
      at,
      object: `stream source "${source}"`,
      field: 'topicSettings.retention',
      message: ms.error,
      hint: 'write a duration such as "7d" or "12h", or "forever" to keep records forever',
    },
  ]);
}

export type StreamSourceDef = Definition<StreamSourceSpec> & { readonly batch: BatchSourceDef };

/** Env var that overrides a source's topic: `user_events` → `LARDER_TOPIC_USER_EVENTS`. */
export const topicEnvVar = (sourceName: string): string =>
  `LARDER_TOPIC_${sourceName.toUpperCase()}`;

/**
 * A Kafka stream source. Records are decoded (JSON, or Avro in the Confluent wire format),
 * validated with the batch source's schema, and land in the batch source for recomputation.
 *
 * `topicSettings` declares the topic's shape: `partitions`, `replicationFactor`, `retention`
 * (`'7d'`, or `'forever'`) and `cleanupPolicy`. `larder topics plan|apply` create the topic and
 * report drift from it, and `larder stream` refuses a topic with another partition count
 * (docs/operations.md, Topics).
 *
 * @example
 * streamSource({
 *   name: 'user_events',
 *   topic: 'user-events',
 *   batchSource: userEventsBatch,
 *   topicSettings: { partitions: 24, replicationFactor: 3, retention: '7d', cleanupPolicy: 'delete' },
 * });
 */
export function streamSource(options: z.input<typeof StreamSourceOptions>): StreamSourceDef {
  const at = callSite();
  const o = parseOptions(StreamSourceOptions, options, 'stream source', at);
  if (o.encoding === 'avro' && !o.avroSchema) {
    throw new DefinitionError([
      {
        at,
        object: `stream source "${o.name}"`,
        field: 'avroSchema',
        message: 'encoding "avro" needs avroSchema',
        hint: 'point it at the .avsc file, relative to the repository root',
      },
    ]);
  }
  const spec: StreamSourceSpec = {
    kind: 'stream_source',
    name: o.name,
    topic: o.topic,
    topicEnv: topicEnvVar(o.name),
    encoding: o.encoding,
    avroSchema: o.avroSchema ?? null,
    batchSource: o.batchSource.spec.name,
    description: o.description,
  };
  if (o.topicSettings) {
    const t = o.topicSettings;
    const settings: TopicSettingsSpec = {
      partitions: t.partitions,
      replicationFactor: t.replicationFactor ?? null,
      retentionMs: t.retention === undefined ? null : retentionMs(t.retention, at, o.name),
      cleanupPolicy: t.cleanupPolicy ?? null,
    };
    spec.topicSettings = settings;
  }
  return makeDefinition(spec, at, { batch: o.batchSource });
}

const PushSourceOptions = z
  .object({
    name: z.string().regex(NAME_RE, NAME_HINT),
    batchSource: z.custom<BatchSourceDef>(isBatch, 'must be a batchSource(...) definition'),
    description: z.string().default(''),
  })
  .strict();

export type PushSourceDef = Definition<PushSourceSpec> & { readonly batch: BatchSourceDef };

/** A push source: records pushed over HTTP (`POST /push`), Feast-style. */
export function pushSource(options: z.input<typeof PushSourceOptions>): PushSourceDef {
  const at = callSite();
  const o = parseOptions(PushSourceOptions, options, 'push source', at);
  const spec: PushSourceSpec = {
    kind: 'push_source',
    name: o.name,
    batchSource: o.batchSource.spec.name,
    description: o.description,
  };
  return makeDefinition(spec, at, { batch: o.batchSource });
}

export type AnySourceDef = BatchSourceDef | StreamSourceDef | PushSourceDef;

/** The batch source behind any source (itself for a batch source). */
export function batchOf(source: AnySourceDef): BatchSourceDef {
  return 'batch' in source ? source.batch : source;
}

/**
 * The topic a stream source reads: its override when set and not empty, else the defined
 * topic. `overrides` is keyed by variable name (`spec.topicEnv`): `config.stream.topics`, which
 * the config loader fills from the `LARDER_TOPIC_<NAME>` environment variables.
 *
 * @example
 * const topic = resolveTopic(source.spec, config.stream.topics);
 */
export function resolveTopic(
  spec: StreamSourceSpec,
  overrides: Readonly<Record<string, string | undefined>> = {},
): string {
  return overrides[spec.topicEnv] || spec.topic;
}

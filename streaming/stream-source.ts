/**
 * What the worker needs per consumed topic: the stream source behind it, its decoder, its
 * batch source's fields, its too-old cutoff, its DLQ topic.
 */
import { resolveTopic } from '../definitions/dsl/sources.ts';
import type { Repository } from '../definitions/repository.ts';
import type { AvroSchemas } from './avro-schemas.ts';
import { joinKeyFields, joinKeyPaths, maxRecordAgeMs } from './apply-records.ts';
import { dlqTopic } from './dead-letter.ts';
import { fieldQuality, type FieldQuality } from './field-quality.ts';
import { createRecordDecoder, type RecordDecoder } from './record-decoder.ts';

export interface StreamSourceRuntime {
  name: string;
  topic: string;
  dlqTopic: string;
  decode: RecordDecoder;
  fields: { timestampField: string; idField: string };
  /** Batch source path under `$LARDER_DATA_DIR` (offline sink). */
  batchPath: string;
  /** Records older than now − this are skipped (0 = never): see `maxRecordAgeMs`. */
  maxAgeMs: number;
  /** Per-field null counts of the batch source's schema (data-quality metrics). */
  quality: FieldQuality;
}

/**
 * One runtime per stream source of the repository (or of `only`), keyed by topic, with the
 * topic overrides (`config.stream.topics`, from `LARDER_TOPIC_<NAME>`) applied.
 *
 * @example
 * const byTopic = streamSources(repo, { avro, topics: config.stream.topics });
 */
export function streamSources(
  repo: Repository,
  opts: {
    avro: AvroSchemas;
    /** Topic overrides keyed by `LARDER_TOPIC_<NAME>` (see `resolveTopic`). */
    topics?: Readonly<Record<string, string>>;
    only?: readonly string[];
    encodings?: Readonly<Record<string, 'json' | 'avro'>>;
    /** The shared ingest rules: wall clock, `ingest.maxFutureSkew`, `ingest.maxKeyBytes`. */
    ingest?: { clock: () => number; maxFutureSkewMs: number; maxKeyBytes: number };
  },
): Map<string, StreamSourceRuntime> {
  const out = new Map<string, StreamSourceRuntime>();
  for (const def of repo.streamSources.values()) {
    const spec = def.spec;
    if (opts.only && !opts.only.includes(spec.name)) continue;
    const topic = resolveTopic(spec, opts.topics);
    const batch = def.batch;
    out.set(topic, {
      name: spec.name,
      topic,
      dlqTopic: dlqTopic(topic),
      decode: createRecordDecoder({
        source: spec.name,
        encoding: opts.encodings?.[spec.name] ?? spec.encoding,
        schema: batch.recordSchema,
        recordType: batch.spec.schema,
        avro: opts.avro,
        joinKeyFields: joinKeyFields(repo, spec.name),
        joinKeyPaths: joinKeyPaths(repo, spec.name),
        ...(opts.ingest
          ? { ingest: { ...opts.ingest, timestampField: batch.spec.timestampField } }
          : {}),
      }),
      fields: { timestampField: batch.spec.timestampField, idField: batch.spec.idField },
      batchPath: batch.spec.path,
      maxAgeMs: maxRecordAgeMs(repo, spec.name),
      quality: fieldQuality(batch.spec.schema),
    });
  }
  return out;
}

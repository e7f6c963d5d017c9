/**
 * The serialized form of every registry object: plain JSON, what `larder apply` stores, what
 * `plan` diffs and hashes, and what the engines (offline SQL, online store, stream worker,
 * server) consume. Builders in `definitions/dsl/` produce these plus their run-time parts.
 */
import type { ExprNode } from './expr/expr.ts';
import type { RecordType } from './record-schema.ts';
import type { AggregationKind, ValueType } from '../core/types.ts';
import type { BatchViewSpec } from './batch/batch-view-spec.ts';
import type { MaterializationSpec } from './materialization-spec.ts';

export type { BatchViewSpec } from './batch/batch-view-spec.ts';
export type { MaterializationSpec } from './materialization-spec.ts';
import type { PreviousPredicate, SequenceKind } from '../core/sequence.ts';

export interface EntitySpec {
  kind: 'entity';
  name: string;
  joinKey: string;
  valueType: ValueType;
  description: string;
}

export interface BatchSourceSpec {
  kind: 'batch_source';
  name: string;
  /** Folder under `$LARDER_DATA_DIR` holding `*.jsonl` / `*.parquet` files. */
  path: string;
  /** BigQuery table name in the configured dataset. */
  bigqueryTable: string;
  timestampField: string;
  /** Unique record id: breaks ties in `last` (greatest id wins). */
  idField: string;
  schema: RecordType;
  description: string;
  /** Data-quality expectations (`expect`), present only when declared; see `larder validate`. */
  expect?: SourceExpectations;
}

/**
 * What the values of one source field or feature must satisfy over a validated period; every
 * bound is optional and present only when declared. Nulls never count against `min`, `max` or
 * `allowed`: `maxNullRate` bounds them (`notNull` is `maxNullRate: 0`).
 */
export interface ValueExpectation {
  /** Largest share of rows (0..1) whose value is null. */
  maxNullRate?: number;
  /** Smallest and largest allowed value (numbers only), inclusive. */
  min?: number;
  max?: number;
  /** The only values allowed (strings, integers or booleans). */
  allowed?: (string | number | boolean)[];
  /** A feature's drift bounds for `larder drift` (feature views only; see {@link DriftBounds}). */
  drift?: DriftBounds;
}

/**
 * When `larder drift` calls a feature drifted: PSI above `maxPsi`, or the two-sample test's
 * p-value below `minPValue`. A bound not declared is the command's flag (or its default).
 */
export interface DriftBounds {
  maxPsi?: number;
  minPValue?: number;
}

/** A batch source's expectations: on its top-level scalar fields and on the source as a whole. */
export interface SourceExpectations {
  /** Top-level scalar field → its expectation. */
  fields: Record<string, ValueExpectation>;
  /** Largest share of raw records (0..1) rejected by the schema and the ingest rules. */
  maxRejectRate?: number;
  /** At least `count` good records in every whole period of `perMs` inside the validated range. */
  minRows?: { count: number; perMs: number };
  /** Freshness: the newest good event is at most this old (ms) when validated. */
  maxAgeMs?: number;
}

/** Kafka cleanup policies a topic declaration may name (`cleanup.policy`). */
export const CLEANUP_POLICIES = ['delete', 'compact', 'compact,delete'] as const;
export type CleanupPolicy = (typeof CLEANUP_POLICIES)[number];

/**
 * How a stream source's topic should look (`larder topics plan|apply`, `larder stream`'s check).
 * A null field is not declared: the broker's default applies and it is never reported as drift.
 */
export interface TopicSettingsSpec {
  partitions: number;
  /** Capped to the cluster's broker count when larger (with a warning). */
  replicationFactor: number | null;
  /** `retention.ms`; -1 keeps records forever. */
  retentionMs: number | null;
  cleanupPolicy: CleanupPolicy | null;
}

export interface StreamSourceSpec {
  kind: 'stream_source';
  name: string;
  topic: string;
  /** The declared shape of `topic`; absent when the source declares none. */
  topicSettings?: TopicSettingsSpec;
  /** Env var that overrides the topic, e.g. `LARDER_TOPIC_USER_EVENTS`. */
  topicEnv: string;
  encoding: 'json' | 'avro';
  /** Path of the `.avsc` file, relative to the repository root. */
  avroSchema: string | null;
  batchSource: string;
  description: string;
}

export interface PushSourceSpec {
  kind: 'push_source';
  name: string;
  batchSource: string;
  description: string;
}

export interface FeatureSpec {
  name: string;
  type: ValueType;
  aggregation: AggregationKind | SequenceKind;
  /** The aggregated value; absent for `count`. */
  input: ExprNode | null;
  /** Per-occurrence weight (`mode` only). */
  weight: ExprNode | null;
  /** Only records matching this count toward the feature (on top of the view's filter). */
  where: ExprNode | null;
  /** Window and hop in ms; both null for a lifetime feature (`last` only). */
  windowMs: number | null;
  hopMs: number | null;
  /** `last_n` only (absent otherwise): how many values, 1..100. */
  n?: number;
  /** `last_n` only (absent otherwise): each value once, at its newest occurrence. */
  distinct?: boolean;
  description: string;
  /** Present exactly for the sequence kinds (`core/sequence.ts`). */
  sequence?: SequenceFeatureSpec;
}

/**
 * What a sequence feature adds. Its `where` marks events (counted events of `count_previous`
 * and `current_session_count`, sessions holding one for `session_*`) and never removes events
 * from the order or the sessions; `input` is the compared field of a `changed` relation.
 * `windowMs`/`hopMs` are null for the current-session kinds.
 */
export interface SequenceFeatureSpec {
  /** `count_previous` only. */
  previous: PreviousPredicate | null;
  /** Session gap G in ms (split where a gap is > G); session kinds only. */
  gapMs: number | null;
}

export interface FeatureViewSpec {
  kind: 'feature_view';
  name: string;
  entities: string[];
  /** How each entity join key is read from a source record. */
  keys: Record<string, ExprNode>;
  /** A stream, push or batch source name. */
  source: string;
  filter: ExprNode | null;
  ttlMs: number;
  online: boolean;
  features: FeatureSpec[];
  description: string;
  /** Present only when the view declares a schedule for `larder scheduler`. */
  materialization?: MaterializationSpec;
  /** Feature → data-quality expectation (`expect`), present only when declared. */
  expect?: Record<string, ValueExpectation>;
}

export type OdfvInputSpec =
  | { from: 'feature'; view: string; feature: string; type: ValueType }
  | { from: 'request'; field: string; type: ValueType };

export interface OnDemandFeatureViewSpec {
  kind: 'on_demand_feature_view';
  name: string;
  entities: string[];
  inputs: Record<string, OdfvInputSpec>;
  features: { name: string; type: ValueType; description: string }[];
  /** The transform's source text: changes to it show in `plan`. */
  transformSource: string;
  description: string;
}

export interface FeatureServiceSpec {
  kind: 'feature_service';
  name: string;
  /** Projections: a view (feature or on-demand) and the features taken from it, in order. */
  projections: { view: string; features: string[] }[];
  description: string;
  /** Feature logging by `serve` (absent = off): the share of requests logged, and where. */
  logging?: FeatureLoggingSpec;
}

/** A service's or model's feature logging (docs/monitoring.md "Feature logging"). */
export interface FeatureLoggingSpec {
  /** Share of requests logged, 0 < sample ≤ 1. */
  sample: number;
  destinations: ('parquet' | 'kafka' | 'bigquery')[];
}

export interface ModelInputSpec {
  /** `view:feature` reference; must be part of the model's feature service. */
  feature: string;
  transform: 'float' | 'bool' | 'one_hot' | 'index';
  vocabulary: string[] | null;
  fill: number;
  missingIndicator: boolean;
}

export interface ModelSpec {
  kind: 'model';
  name: string;
  version: string;
  /** ONNX file, relative to the repository root. */
  path: string;
  service: string;
  inputName: string;
  outputName: string | null;
  inputs: ModelInputSpec[];
  description: string;
  /** Feature logging of the model's scoring routes by `serve` (absent = off). */
  logging?: FeatureLoggingSpec;
}

export interface ExperimentSpec {
  kind: 'experiment';
  name: string;
  /** Arms and their share of traffic in percent (sums to 100). */
  arms: { name: string; model: string; percent: number }[];
  hashKey: string;
  description: string;
}

export type ObjectSpec =
  | EntitySpec
  | BatchSourceSpec
  | StreamSourceSpec
  | PushSourceSpec
  | FeatureViewSpec
  | OnDemandFeatureViewSpec
  | BatchViewSpec
  | FeatureServiceSpec
  | ModelSpec
  | ExperimentSpec;

export type ObjectKind = ObjectSpec['kind'];

export const OBJECT_KINDS: readonly ObjectKind[] = [
  'entity',
  'batch_source',
  'stream_source',
  'push_source',
  'feature_view',
  'on_demand_feature_view',
  'batch_view',
  'feature_service',
  'model',
  'experiment',
];

/** The registry's key for an object: `kind:name`. */
export function objectKey(s: { kind: string; name: string }): string {
  return `${s.kind}:${s.name}`;
}

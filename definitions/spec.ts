/**
 * The serialized form of every registry object: plain JSON, what `larder apply` stores, what
 * `plan` diffs and hashes, and what the engines (offline SQL, online store, stream worker,
 * server) consume. Builders in `definitions/dsl/` produce these plus their run-time parts.
 */
import type { ExprNode } from './expr/expr.ts';
import type { RecordType } from './record-schema.ts';
import type { AggregationKind, ValueType } from '../core/types.ts';
import type { BatchViewSpec } from './batch/batch-view-spec.ts';

export type { BatchViewSpec } from './batch/batch-view-spec.ts';
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
}

export interface StreamSourceSpec {
  kind: 'stream_source';
  name: string;
  topic: string;
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

/** A service's feature logging (docs/monitoring.md "Feature logging"). */
export interface FeatureLoggingSpec {
  /** Share of requests logged, 0 < sample ≤ 1. */
  sample: number;
  destinations: ('parquet' | 'kafka')[];
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

/**
 * The offline store: point-in-time correct training exports and the batch computation of
 * aggregation tiles that materialization writes into the online store.
 *
 * Deliberately exposes no client type (no DuckDB connection, no BigQuery job): a store owns its
 * lifecycle (`init` / `close`) and says what it can do in `capabilities` instead of throwing
 * "not implemented".
 *
 * @example
 * const store = createOfflineStore(config);
 * await store.init();
 * try {
 *   const summary = await store.exportPointInTime({
 *     repo, features: repo.resolveFeatures({ service: 'recommendation_v1' }),
 *     entities: { type: 'file', path: 'entities.csv' }, out: { type: 'file', path: 'train.parquet' },
 *   });
 *   console.log(summary.rows, summary.rejects);
 * } finally {
 *   await store.close();
 * }
 */
import type { LastState } from '../aggregation/index.ts';
import type { Repository, ResolvedFeature } from '../definitions/repository.ts';
import type { BatchSourceSpec, FeatureViewSpec } from '../definitions/spec.ts';
import type { FeatureValue, Scalar, ValueType } from '../core/types.ts';

export const OUTPUT_FORMATS = ['parquet', 'arrow', 'csv', 'jsonl'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** The unit of numeric entity timestamps: epoch seconds, milliseconds or microseconds. */
export const TIMESTAMP_UNITS = ['s', 'ms', 'us'] as const;
export type TimestampUnit = (typeof TIMESTAMP_UNITS)[number];

/** Numeric timestamps read as milliseconds are plausible from 1973 to 2500. */
export const PLAUSIBLE_MS = { from: Date.UTC(1973, 0, 1), to: Date.UTC(2500, 0, 1) } as const;

/** The unit an epoch number is most likely in: `ms` when it is plausible as milliseconds. */
export function plausibleTimestampUnit(n: number): TimestampUnit {
  if (n < PLAUSIBLE_MS.from) return 's';
  if (n > PLAUSIBLE_MS.to) return 'us';
  return 'ms';
}

/**
 * Where the entity rows come from: a file (CSV, JSON Lines or Parquet, with the join keys and
 * `event_timestamp`), rows in memory (same columns), or a time grid that spot-samples every
 * entity key seen in the sources at `start, start + every, …, <= end`.
 *
 * `event_timestamp` may be a typed timestamp (Parquet, DuckDB-typed JSON), an ISO-8601 string
 * (without an offset: UTC) or an epoch number in `timestampUnit`. Without `timestampUnit`,
 * numbers are milliseconds, and rows whose numeric timestamps all lie before 1973 (or all after
 * 2500) as milliseconds are refused: they are seconds (microseconds) read in the wrong unit.
 * Malformed lines (CSV quoting, field counts; invalid JSON) are refused with their line numbers.
 */
export type EntitySource =
  | { type: 'file'; path: string; timestampUnit?: TimestampUnit }
  | { type: 'rows'; rows: readonly Record<string, unknown>[]; timestampUnit?: TimestampUnit }
  | { type: 'grid'; start: number; end: number; everyMs: number };

/** A file (format from the extension unless given), or rows returned in the summary (tests). */
export type OutputTarget =
  { type: 'file'; path: string; format?: OutputFormat } | { type: 'memory' };

export interface ExportProgress {
  rowsDone: number;
  rowsTotal: number;
  /**
   * What the store is doing: `reading sources`, `validating <source>` (a first run over new raw
   * files; rows estimated from their sizes), `aggregating`, `writing`.
   */
  phase: string;
  elapsedSeconds: number;
}

export interface ExportRequest {
  repo: Repository;
  /** Features in output order (feature views and on-demand views alike). */
  features: readonly ResolvedFeature[];
  entities: EntitySource;
  out: OutputTarget;
  /** Name columns `view__feature` instead of `feature`. */
  fullFeatureNames?: boolean;
  onProgress?: (p: ExportProgress) => void;
}

/** One bad raw record. `line` is 1-based (JSON Lines) or the row number (Parquet). */
export interface RejectExample {
  line: number;
  reason: string;
}

/** Bad raw records of one file: never dropped silently, never fatal. */
export interface RejectReport {
  source: string;
  file: string;
  count: number;
  /** The first few, in file order. */
  examples: RejectExample[];
}

export interface ExportColumn {
  name: string;
  /** Feature type, or `entity` for a column passed through from the entity rows. */
  type: ValueType | 'entity';
}

export interface ExportSummary {
  rows: number;
  seconds: number;
  rowsPerSecond: number;
  columns: ExportColumn[];
  rejects: RejectReport[];
  /** Only for `{ type: 'memory' }` output: one object per row, int64 as numbers. */
  data?: Record<string, FeatureValue | null>[];
}

/** Tiles of one entity key and hop: the state of every windowed feature with that hop size. */
export interface TileRecord {
  /** Join key values, in the order of the view's entities. */
  key: Scalar[];
  hopMs: number;
  /** Hop index `floor(ts / hopMs)`. */
  hop: number;
  /** Feature name → the aggregation library's JSON state (count: number, avg: {sum,count}, …). */
  states: Record<string, unknown>;
}

/** Lifetime `last` states of one entity key as of `end`. */
export interface LifetimeRecord {
  key: Scalar[];
  states: Record<string, LastState | null>;
}

export interface TileBatch {
  tiles: TileRecord[];
  lifetime: LifetimeRecord[];
}

export interface ComputeTilesRequest {
  repo: Repository;
  /** Events with `start <= ts < end` go into tiles; lifetime states use every event `< end`. */
  start: number;
  end: number;
  /** Records per batch (default 10 000). */
  batchSize?: number;
  /**
   * Internal: a view with sequence features has its tiles combined in memory (a tile field is
   * written whole) one bucket of entities at a time, with about this many tiles per bucket
   * (default 200 000; DuckDB). Tests set it tiny to use many buckets.
   */
  bucketTiles?: number;
  /**
   * Per hop size, the first hop whose tile the caller uses (materialization: the tiles that can
   * serve a read at a time ≥ its end): a store may leave out the tiles of earlier hops. DuckDB
   * does for views with sequence features (their states are folded in memory), so it neither
   * folds nor counts them.
   */
  firstHops?: ReadonlyMap<number, number>;
  /** Progress of validating raw files not validated before (a first run over new data). */
  onValidate?: (p: ValidationProgress) => void;
}

/**
 * Progress of validating new raw files (JSON Lines into the store's validated cache). Rows are
 * estimated from the files' sizes until each file is done (then counted); `done` on the last.
 */
export interface ValidationProgress {
  rowsDone: number;
  rowsTotal: number;
  /** Files validated so far, and in all (new or changed files only). */
  filesDone: number;
  filesTotal: number;
  seconds: number;
  done: boolean;
}

export interface ComputeTilesResult {
  batches: AsyncIterable<TileBatch>;
  /** Tile and lifetime records the batches will hold in all, when the store knows it (progress, ETA). */
  total?: number;
  /** Filled in once `batches` has been consumed. */
  rejects: () => RejectReport[];
}

/** The quantiles `sourceStatistics` reports for numeric fields. */
export const STATISTICS_QUANTILES = [0.05, 0.25, 0.5, 0.75, 0.95] as const;

/**
 * Statistics of a batch source's records with `start <= ts < end`, computed where the source
 * lives (`larder validate`, docs/monitoring.md).
 */
export interface SourceStatisticsRequest {
  repo: Repository;
  /** A batch source name. */
  source: string;
  start: number;
  end: number;
  /** Top-level scalar fields to describe; with `allowed`, values outside it are counted. */
  fields: readonly { name: string; allowed?: readonly (string | number | boolean)[] }[];
  /** Count the good records of every whole period of this length (epoch-aligned) in the range. */
  periodMs?: number;
  /** Histogram bins of numeric fields (default 20). */
  bins?: number;
}

/** What one field's (or feature's) values look like; nulls count in `nulls` only. */
export interface ValueStatistics {
  name: string;
  type: ValueType;
  /** Rows in all, nulls among them, and distinct non-null values. */
  rows: number;
  nulls: number;
  distinct: number;
  /** Numbers only (else null). */
  min: number | null;
  max: number | null;
  mean: number | null;
  /** Numbers only: one value of the data per `STATISTICS_QUANTILES` entry (BigQuery approximates). */
  quantiles: { q: number; value: number }[];
  /** Numbers only: equal-width bins over [min, max]; the last bin includes max. */
  histogram: { lo: number; hi: number; count: number }[];
  /** Strings and booleans: the ten most frequent values (ties by value). */
  top: { value: string; count: number }[];
  /** With `allowed`: non-null values outside it. */
  notAllowed?: number;
}

export interface SourceStatistics {
  source: string;
  start: number;
  end: number;
  /** Good records with `start <= ts < end`. */
  rows: number;
  /**
   * Rejected raw records of the whole source (a rejected record has no trusted event time, so
   * they are not limited to the range) and good records of the whole source: the reject rate
   * is `rejected / (rejected + sourceRows)`. On BigQuery (typed tables) only the ingest rules'
   * rejects: rows stamped later than now + `ingest.maxFutureSkew` or outside JavaScript's dates.
   */
  rejected: number;
  sourceRows: number;
  /** Rejected records by reason, most frequent first. */
  rejects: { reason: string; count: number }[];
  /** Event times of the oldest and newest good records in the range (null without any). */
  oldestEventMs: number | null;
  newestEventMs: number | null;
  /** With `periodMs`: every whole period inside the range, oldest first, zeros included. */
  periods: { start: number; rows: number }[];
  fields: ValueStatistics[];
}

export interface OfflineStoreCapabilities {
  readonly exportPointInTime: boolean;
  readonly computeTiles: boolean;
  readonly outputFormats: readonly OutputFormat[];
  /** Can process sources larger than memory. */
  readonly outOfCore: boolean;
  readonly entityGrid: boolean;
  /** `sourceStatistics`: statistics of a batch source computed as SQL where it lives. */
  readonly sourceStatistics: boolean;
  /** Takes raw source records from the stream worker and `POST /push` ({@link OfflineStore.appendRecords}). */
  readonly appendRecords: boolean;
}

/**
 * Where appended records come from. Offsets strictly increase within one origin (a Kafka
 * partition's offsets; a push's row numbers), and one writer appends for an origin at a time.
 */
export type AppendOrigin =
  { kind: 'stream'; topic: string; partition: number } | { kind: 'push'; id: string };

export interface AppendRequest {
  /** The batch source the records belong to (its path / BigQuery table and schema). */
  source: BatchSourceSpec;
  origin: AppendOrigin;
  /** Valid records (already read with the source schema), in ascending offset order. */
  records: readonly { offset: number; record: Record<string, unknown> }[];
  /** Their ingestion time, epoch ms (default: the store's clock now). */
  ingestedAt?: number;
}

export interface AppendResult {
  /** Records written now. */
  appended: number;
  /** Records skipped: their origin's offset was already in the store (a replay). */
  skipped: number;
  /** Where they went: a JSON Lines file (DuckDB) or `project.dataset.table` (BigQuery). */
  location: string;
}

export interface BatchSnapshotRequest {
  repo: Repository;
  /** The batch view. */
  view: string;
  /** The snapshot time D (epoch ms; see `snapshotAt`). */
  at: number;
}

/** A batch view's snapshot at D: one row per entity (join key values, features). */
export interface BatchSnapshot {
  at: number;
  rows: { key: Scalar[]; values: Record<string, Scalar | null> }[];
  rejects: RejectReport[];
}

export interface OfflineStore {
  readonly type: string;
  readonly capabilities: OfflineStoreCapabilities;
  /** Opens the client; idempotent, and retried after a failed attempt. */
  init(): Promise<void>;
  /** Releases the client and temporary files. */
  close(): Promise<void>;
  /** One output row per entity row, in order; see {@link ExportRequest}. */
  exportPointInTime(request: ExportRequest): Promise<ExportSummary>;
  /** Per-hop partial aggregation states and lifetime `last` states of a feature view. */
  computeTiles(view: FeatureViewSpec, request: ComputeTilesRequest): Promise<ComputeTilesResult>;
  /** A batch view's snapshot at D, computed where the source lives (see `readSnapshot`). */
  batchSnapshot(request: BatchSnapshotRequest): Promise<BatchSnapshot>;
  /**
   * Runs a batch view's query on an empty input where the store runs it (`apply`); throws a
   * DefinitionError when its output is not the declared join keys and features.
   */
  checkBatchView(repo: Repository, view: string): Promise<void>;
  /** See {@link SourceStatisticsRequest}; present when `capabilities.sourceStatistics`. */
  sourceStatistics?(request: SourceStatisticsRequest): Promise<SourceStatistics>;
  /**
   * Appends raw source records, exactly once per (origin, offset): offsets at or below the
   * origin's high-water mark in the store are skipped, the rest are written in one durable,
   * atomic step (per statement on BigQuery, in ascending offsets), each with its origin, offset
   * and ingestion time (`_larder_origin`, `_larder_offset`, `_larder_ingested_at`). Needs no
   * `init()`. See docs/operations.md "Streamed and pushed records in the offline store".
   */
  appendRecords(request: AppendRequest): Promise<AppendResult>;
  /** Where {@link appendRecords} puts records of `origin` ingested at `ingestedAt` (`AppendResult.location`). */
  appendLocation(source: BatchSourceSpec, origin: AppendOrigin, ingestedAt: number): string;
  /**
   * The earliest event time among records of `source` appended at or after `since` (ingestion
   * time, epoch ms), or null when none were: where `materialize-incremental` must restart so a
   * late record is not missed.
   */
  earliestAppendedSince(source: BatchSourceSpec, since: number): Promise<number | null>;
}

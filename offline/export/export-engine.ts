/**
 * What an engine of the point-in-time export does (sweep, DuckDB SQL, BigQuery): where it reads
 * a batch source from, which entity keys a time grid samples, and the feature values of every
 * pass for the entity rows. The pipeline (`export-pipeline.ts`) does the rest the same way for
 * all: planning, entity rows, on-demand features and the output, in the local DuckDB.
 *
 * An engine gives its feature values either as SQL over the local entity table (`output: 'sql'`:
 * DuckDB SQL, BigQuery) or as the finished Parquet file (`output: 'parquet'`: the sweep, which
 * also computes the on-demand features over its typed columns and writes every column itself).
 */
import type { BatchSourceSpec } from '../../definitions/spec.ts';
import { emptySequenceValue } from '../../aggregation/sequence-tiles.ts';
import { isSequenceKind } from '../../core/sequence.ts';
import type { DuckDBClient } from '../local/duckdb-client.ts';
import { sqlValueType } from '../local/column-types.ts';
import type { RejectReport, ValidationProgress } from '../offline-store.ts';
import type { ExportPlan } from './export-plan.ts';
import type { Pass, PassFeature, PassSource } from './pass.ts';
import type { SnapshotJob } from '../batch/snapshot-job.ts';

/** A phase's progress: rows done out of the total. */
export type ExportProgressFn = (phase: string, rowsDone: number, rowsTotal: number) => void;

/** The entity rows and passes of one export, in the local DuckDB. */
export interface ExportJob {
  /** The local DuckDB connection. */
  client: DuckDBClient;
  plan: ExportPlan;
  passes: readonly Pass[];
  /** Local table `(__rid BIGINT, __t BIGINT, <entity columns>)`, one row per entity row. */
  entTable: string;
  /** The entity rows' own columns (passed through to the output), in order. */
  entityCols: readonly string[];
  /** Every join key the passes read, columns of `entTable`. */
  joinKeys: readonly string[];
  /** Entity rows. */
  total: number;
  /** A fresh local temp-table or file name. */
  name: (prefix: string) => string;
  /** A local scratch folder (upload files). */
  tmpDir: string;
  progress: ExportProgressFn;
}

/**
 * Feature values as SQL over the entity table aliased `e`: `joins` (LEFT JOINs on `__rid`) and
 * each pass feature's value expression by its column ({@link PassFeature.col}).
 */
export interface SqlFeatureValues {
  joins: string[];
  valueOf: Map<string, string>;
}

interface ExportEngineBase {
  /** For messages: `sweep`, `sql`, `bigquery`. */
  readonly name: string;
  /** Called as an export starts, before planning (the sweep starts its workers meanwhile). */
  begin?(): void;
  /** Releases what the engine keeps between exports (the sweep's worker pool). */
  close?(): Promise<void>;
  /**
   * Validates the raw files of every batch source the export reads that were not validated
   * before, all at once (the DuckDB engines: one pool over every source's files, so one
   * source's files keep both cores busy beside another's); `source` then finds them done.
   * `onValidate` follows them together, with the names of the sources that had any.
   */
  validateSources?(
    client: DuckDBClient,
    specs: readonly BatchSourceSpec[],
    onValidate: (sources: string[], p: ValidationProgress) => void,
  ): Promise<void>;
  /**
   * Where passes read a batch source from (the DuckDB engines load the fields `paths` need into
   * a local temp table and report its bad records in `rejects`; `onValidate` follows their
   * validation of raw files not validated before).
   */
  source(
    client: DuckDBClient,
    spec: BatchSourceSpec,
    paths: ReadonlySet<string>,
    rejects: RejectReport[],
    onValidate?: (p: ValidationProgress) => void,
  ): Promise<PassSource>;
  /**
   * A local SQL query of every entity key tuple the passes' events have (non-null keys, good
   * records passing the filter), one column per join key: the entities a time grid samples.
   * The passes share their join keys.
   */
  gridKeys(
    client: DuckDBClient,
    passes: readonly Pass[],
    name: (p: string) => string,
  ): Promise<string>;
  /**
   * A batch view's snapshots at `job.times` (computed where the source lives, cached per
   * snapshot time where the engine can) into a local table: `__snapshot` (D), the join keys,
   * the features. Absent: the engine cannot export batch views.
   */
  batchSnapshots?(job: SnapshotJob): Promise<string>;
}

export interface SqlExportEngine extends ExportEngineBase {
  readonly output: 'sql';
  /** Computes every pass feature for the entity rows into local tables. */
  aggregate(job: ExportJob): Promise<SqlFeatureValues>;
}

export interface ParquetExportEngine extends ExportEngineBase {
  readonly output: 'parquet';
  /**
   * Writes the whole export as one Parquet file at `output.path`: the entity columns, then the
   * output `columns` (internal column → output name; on-demand features included), every
   * column in entity-row order.
   */
  writeParquet(
    job: ExportJob,
    output: { path: string; columns: { col: string; name: string }[] },
  ): Promise<void>;
}

export type ExportEngine = SqlExportEngine | ParquetExportEngine;

/**
 * A pass feature's value from its result `column`, where NULL means no event was in its window:
 * 0 for count, sum and count_distinct, `[]` for last_n, NULL (as is) for the others.
 */
export function passValueSql(pf: PassFeature, column: string): string {
  const kind = pf.feature.aggregation;
  if (kind === 'last_n') return `COALESCE(${column}, CAST([] AS ${sqlValueType(pf.feature.type)}))`;
  if (isSequenceKind(kind))
    return emptySequenceValue(kind) === 0 ? `COALESCE(${column}, 0)` : column;
  return kind === 'count' || kind === 'sum' || kind === 'count_distinct'
    ? `COALESCE(${column}, 0)`
    : column;
}

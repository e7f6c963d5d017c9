/**
 * A warehouse that computes the aggregations of a point-in-time export where the raw events
 * live (BigQuery), while the DuckDB store does the rest locally: entity rows (files, ISO or
 * epoch timestamps, passthrough columns), on-demand features, column naming and every output
 * format. Only the entity keys and times go up and only feature values come back; raw events
 * never reach Node.
 */
import type { BatchSourceSpec } from '../../definitions/spec.ts';
import type { TileBatch } from '../offline-store.ts';
import type { DuckDBClient } from '../local/duckdb-client.ts';
import type { Pass } from '../export/pass.ts';

export interface RemoteAggregateRequest {
  /** The local DuckDB connection (entity rows are in `entTable`). */
  client: DuckDBClient;
  passes: readonly Pass[];
  /** Local table `(__rid BIGINT, __t BIGINT, <join keys>, …)`. */
  entTable: string;
  /** Every join key the passes read, columns of `entTable`. */
  joinKeys: readonly string[];
  /** Local table to create: `(__rid BIGINT, <pf.col> <type> …)` for every pass feature. */
  table: string;
  /** A local scratch directory for upload files. */
  tmpDir: string;
  onRows?: (done: number) => void;
}

export interface RemoteKeysRequest {
  client: DuckDBClient;
  /** Passes keyed by the same join keys. */
  passes: readonly Pass[];
  /** Local table to create: one VARCHAR column per join key, one row per distinct tuple. */
  table: string;
}

export interface RemoteTilesRequest {
  /** One view's features as a pass (see `computeTiles`). */
  pass: Pass;
  start: number;
  end: number;
  batchSize: number;
}

export interface RemoteAggregator {
  /** For messages: `bigquery`. */
  readonly name: string;
  /** The SQL table reference a batch source is read from (no local load, no rejects). */
  sourceTable(spec: BatchSourceSpec): string;
  /** Every entity key tuple the passes' events have, into a local table (time grids). */
  distinctKeys(request: RemoteKeysRequest): Promise<void>;
  /** The view's tiles and lifetime states, computed where the events live (materialization). */
  tiles(request: RemoteTilesRequest): AsyncIterable<TileBatch>;
  /** Computes every pass feature for the entity rows into the local `table`. */
  aggregate(request: RemoteAggregateRequest): Promise<void>;
}

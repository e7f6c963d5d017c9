/**
 * What an export engine is given to compute a batch view's snapshots (see
 * `ExportEngine.batchSnapshots`).
 */
import type { BatchViewDef } from '../../definitions/dsl/batch-view.ts';
import type { BatchSourceSpec } from '../../definitions/spec.ts';
import type { DuckDBClient } from '../local/duckdb-client.ts';
import type { PassSource } from '../export/pass.ts';
import type { SnapshotColumns } from './snapshot-sql.ts';

export interface SnapshotJob {
  /** The local DuckDB connection: the snapshots land in a local table. */
  client: DuckDBClient;
  view: BatchViewDef;
  cols: SnapshotColumns;
  source: BatchSourceSpec;
  /** Where the engine reads the source from (its `source()`). */
  src: PassSource;
  /** The snapshot times D to compute (epoch ms), ascending. */
  times: readonly number[];
  /** A fresh local temp-table or file name. */
  name: (prefix: string) => string;
  /** A local scratch folder. */
  tmpDir: string;
}

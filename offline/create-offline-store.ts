import type { LarderConfig } from '../config/config.ts';
import { BigQueryOfflineStore } from './bigquery/bigquery-offline-store.ts';
import { DuckDBOfflineStore } from './duckdb/duckdb-offline-store.ts';
import type { OfflineStore } from './offline-store.ts';

/**
 * The offline store the configuration names (default: embedded DuckDB over
 * `$LARDER_DATA_DIR`; `bigquery://PROJECT/DATASET` → BigQuery). Call `init()` before use and `close()` after.
 *
 * @example
 * const store = createOfflineStore(config);
 */
export function createOfflineStore(
  config: Pick<LarderConfig, 'offlineStore' | 'dataDir' | 'home'> &
    Partial<Pick<LarderConfig, 'ingest' | 'trace'>>,
): OfflineStore {
  const c = config.offlineStore;
  switch (c.type) {
    case 'duckdb':
      return new DuckDBOfflineStore(
        { ...c, dataDir: config.dataDir, home: config.home, trace: config.trace },
        config.ingest ? { maxFutureSkewMs: config.ingest.maxFutureSkewMs } : {},
      );
    case 'bigquery':
      return new BigQueryOfflineStore(
        { ...c, home: config.home, trace: config.trace },
        undefined,
        config.ingest ? { maxFutureSkewMs: config.ingest.maxFutureSkewMs } : {},
      );
  }
}

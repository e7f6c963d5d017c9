/**
 * Runs the offline-store conformance suite against the embedded DuckDB store, with its default
 * sweep engine and with the SQL window engine.
 */
import { duckdbHarness } from './duckdb-harness.ts';
import { describeOfflineStoreConformance } from './offline-store-conformance.ts';

for (const engine of ['sweep', 'sql'] as const) {
  describeOfflineStoreConformance(engine === 'sweep' ? 'duckdb' : 'duckdb (sql engine)', async () =>
    duckdbHarness({ memoryLimit: '1GB', threads: 2, engine }),
  );
}

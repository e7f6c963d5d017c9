/**
 * The offline-store conformance suite against the BigQuery store, on a local emulator
 * (bqemulator from PyPI, DuckDB-backed; `bash scripts/bqemu.sh install` sets it up in
 * `.cache/py/bqemu`; started and filled through `bq-emulator-support.ts`). Skipped, with the
 * reason in the test name, when it is not installed. Raw-file rejects (bad JSON, schema) do not
 * apply to BigQuery (typed tables), so those cases pass trivially; the ingest rules' case runs
 * on both stores; the time grid, computeTiles and sourceStatistics run their queries in the
 * emulator.
 */
import { afterAll, beforeAll, it } from 'vitest';
import {
  BQ_EMULATOR_BIN,
  bqEmulatorAvailable,
  bqEmulatorHarness,
  startBqEmulator,
  type BqEmulator,
} from './bq-emulator-support.ts';
import { describeOfflineStoreConformance } from './offline-store-conformance.ts';
import { describeSourceStatisticsConformance } from './source-statistics-conformance.ts';

if (!bqEmulatorAvailable) {
  it.skip(`bigquery emulator conformance — skipped: ${BQ_EMULATOR_BIN} not found (run: bash scripts/bqemu.sh install)`, () => {});
} else {
  // One emulator for both suites, a dataset each (a start costs seconds of CPU).
  let emulator: BqEmulator | undefined;
  beforeAll(async () => {
    emulator = await startBqEmulator();
  }, 60_000);
  afterAll(() => emulator?.stop());
  const harness = () => bqEmulatorHarness({ emulator: emulator! });
  // Each computeTiles run is ~9 query jobs of a second or more here: one random history per
  // variant / end (every view kind, bucketTiles × firstHops, every end); DuckDB runs more.
  describeOfflineStoreConformance('bigquery (emulator)', harness, {
    computeTiles: { perVariant: 1, perSchemaEnd: 1 },
  });
  describeSourceStatisticsConformance('bigquery (emulator)', harness);
}

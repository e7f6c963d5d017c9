/**
 * The offline-store conformance suite against the BigQuery store, on a local emulator
 * (bqemulator from PyPI, DuckDB-backed; `bash scripts/bqemu.sh install` sets it up in
 * `.cache/py/bqemu`; started and filled through `bq-emulator-support.ts`). Skipped, with the
 * reason in the test name, when it is not installed. Raw-record rejects do not apply to
 * BigQuery (typed tables), so that case passes trivially; the time grid, computeTiles and
 * sourceStatistics run their queries in the emulator.
 */
import { it } from 'vitest';
import { BigQueryOfflineStore } from '../../offline/bigquery/bigquery-offline-store.ts';
import { tempDir } from '../support/temp-repo.ts';
import { BQ_EMULATOR_BIN, bqEmulatorAvailable, startBqEmulator } from './bq-emulator-support.ts';
import {
  describeOfflineStoreConformance,
  type ConformanceHarness,
} from './offline-store-conformance.ts';
import { describeSourceStatisticsConformance } from './source-statistics-conformance.ts';

if (!bqEmulatorAvailable) {
  it.skip(`bigquery emulator conformance — skipped: ${BQ_EMULATOR_BIN} not found (run: bash scripts/bqemu.sh install)`, () => {});
} else {
  const emulatorHarness = async (): Promise<ConformanceHarness> => {
    const emulator = await startBqEmulator();
    const tmp = tempDir();
    const store = new BigQueryOfflineStore({
      type: 'bigquery',
      project: emulator.project,
      dataset: emulator.dataset,
      apiEndpoint: emulator.endpoint,
      home: tmp.dir,
      entityUpload: 'insert',
    });
    return {
      store,
      rawFiles: false,
      async writeSource(source, lines) {
        await emulator.writeTable(
          source.bigqueryTable,
          source.schema,
          lines.map((l) => JSON.parse(l) as Record<string, unknown>),
        );
      },
      async close() {
        await store.close();
        emulator.stop();
        tmp.cleanup();
      },
    };
  };
  describeOfflineStoreConformance('bigquery (emulator)', emulatorHarness);
  describeSourceStatisticsConformance('bigquery (emulator)', emulatorHarness);
}

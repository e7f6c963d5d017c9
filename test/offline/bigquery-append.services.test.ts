/**
 * The append conformance suite against the BigQuery store on the local emulator: DML inserts
 * into the source's table, exactly once by origin and offset. Skipped, with the reason in the
 * test name, when the emulator is not installed.
 */
import { it } from 'vitest';
import { BigQueryOfflineStore } from '../../offline/bigquery/bigquery-offline-store.ts';
import { tempDir } from '../support/temp-repo.ts';
import { BQ_EMULATOR_BIN, bqEmulatorAvailable, startBqEmulator } from './bq-emulator-support.ts';
import { describeOfflineAppendConformance } from './offline-append-conformance.ts';

if (!bqEmulatorAvailable) {
  it.skip(`bigquery append conformance — skipped: ${BQ_EMULATOR_BIN} not found (run: bash scripts/bqemu.sh install)`, () => {});
} else {
  describeOfflineAppendConformance('bigquery (emulator)', async () => {
    const emu = await startBqEmulator();
    const tmp = tempDir();
    const store = new BigQueryOfflineStore({
      type: 'bigquery',
      project: emu.project,
      dataset: emu.dataset,
      apiEndpoint: emu.endpoint,
      home: tmp.dir,
      entityUpload: 'insert',
    });
    return {
      store,
      rawFiles: false,
      async writeSource(source, lines) {
        await emu.writeTable(
          source.bigqueryTable,
          source.schema,
          lines.map((l) => JSON.parse(l) as Record<string, unknown>),
        );
      },
      async readRows(source) {
        const [rows] = await emu.bq.query({
          query: `SELECT * FROM \`${emu.project}.${emu.dataset}.${source.bigqueryTable}\``,
        });
        return rows as Record<string, unknown>[];
      },
      async close() {
        await store.close();
        emu.stop();
        tmp.cleanup();
      },
    };
  });
}

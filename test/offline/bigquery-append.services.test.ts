/**
 * The append conformance suite against the BigQuery store on the local emulator: DML inserts
 * into the source's table, exactly once by origin and offset. Skipped, with the reason in the
 * test name, when the emulator is not installed.
 */
import { it } from 'vitest';
import { BQ_EMULATOR_BIN, bqEmulatorAvailable, bqEmulatorHarness } from './bq-emulator-support.ts';
import { describeOfflineAppendConformance } from './offline-append-conformance.ts';

if (!bqEmulatorAvailable) {
  it.skip(`bigquery append conformance — skipped: ${BQ_EMULATOR_BIN} not found (run: bash scripts/bqemu.sh install)`, () => {});
} else {
  describeOfflineAppendConformance('bigquery (emulator)', async () => {
    const h = await bqEmulatorHarness();
    const { bq, project, dataset } = h.emulator;
    return {
      ...h,
      async readRows(source) {
        const [rows] = await bq.query({
          query: `SELECT * FROM \`${project}.${dataset}.${source.bigqueryTable}\``,
        });
        return rows as Record<string, unknown>[];
      },
    };
  });
}

/**
 * Drift over windows of offline values on the BigQuery store, against the local emulator
 * (`bash scripts/bqemu.sh install`; skipped, with the reason in the test name, when it is not
 * installed): the same history and expectations as on DuckDB (drift-windows.test.ts), the
 * windows exported by the BigQuery export pipeline.
 */
import { it } from 'vitest';
import {
  BQ_EMULATOR_BIN,
  bqEmulatorAvailable,
  bqEmulatorHarness,
} from '../offline/bq-emulator-support.ts';
import { describeDriftWindowsConformance } from './drift-windows-conformance.ts';

if (!bqEmulatorAvailable) {
  it.skip(`drift windows on the bigquery emulator — skipped: ${BQ_EMULATOR_BIN} not found (run: bash scripts/bqemu.sh install)`, () => {});
} else {
  describeDriftWindowsConformance('bigquery (emulator)', bqEmulatorHarness);
}

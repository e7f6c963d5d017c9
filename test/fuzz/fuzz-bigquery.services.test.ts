/**
 * Bounded differential fuzzing of the BigQuery SQL export, on the local emulator
 * (`bq-emulator-support.ts`; skipped, with the reason in the test name, when it is not
 * installed): for a few arbitrary cases (fixed seed, `LARDER_FUZZ_SEED` overrides it), the
 * case's records written to the sources' typed tables and exported point-in-time through the
 * BigQuery offline store, value for value against the reference (`differential.ts`).
 *
 * The tables hold every record of the case; the store's clock is the case's "now", so a record
 * stamped later than now + `ingest.maxFutureSkew` is a counted reject of its table, as of a
 * batch file on DuckDB, and the values are the reference's over the accepted records.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transactions, userEvents } from '../../examples/ecommerce/features/sources.ts';
import type { EntityRow } from '../../reference/index.ts';
import {
  bqEmulatorAvailable,
  bqEmulatorHarness,
  BQ_EMULATOR_BIN,
} from '../offline/bq-emulator-support.ts';
import { buildRepository } from './definitions.ts';
import {
  acceptedCase,
  describeMismatches,
  features,
  recordsOf,
  referenceValues,
  refusedAt,
  sameFeatureValue,
  type Mismatch,
} from './differential.ts';
import { atAnchor, caseArb, type FuzzCase } from './fuzz-case.ts';
import { ANCHOR } from './in-process.ts';
import { knownDefectShapes } from './known-defects.ts';

const SEED = Number(process.env.LARDER_FUZZ_SEED ?? 1515);
const CASES = 3;

type Harness = Awaited<ReturnType<typeof bqEmulatorHarness>>;

async function checkBigQueryExport(h: Harness, c: FuzzCase): Promise<Mismatch[]> {
  const repo = buildRepository(c.plans, c.onDemand);
  const accepted = acceptedCase(c);
  for (const [source, def] of [
    ['user_events', userEvents],
    ['transactions', transactions],
  ] as const)
    await h.emulator.writeTable(
      def.batch.spec.bigqueryTable,
      def.batch.spec.schema,
      recordsOf(c, source),
    );
  const rows: EntityRow[] = c.exportRows.map((r) => ({
    user_id: r.user_id,
    product_id: r.product_id,
    event_timestamp: r.t,
    ...(c.onDemand?.request ? { req: r.req ?? null } : {}),
  }));
  const got = await h.store.exportPointInTime({
    repo,
    features: features(repo),
    entities: { type: 'rows', rows },
    out: { type: 'memory' },
    fullFeatureNames: true,
  });
  const want = referenceValues(repo, accepted, rows);
  const out: Mismatch[] = [];
  // Records later than now + the skew are the rejects of the tables the views read.
  for (const source of new Set(c.plans.map((v) => v.source))) {
    const reports = got.rejects.filter((r) => r.source === `${source}_batch`);
    const count = reports.reduce((n, r) => n + r.count, 0);
    const refused = recordsOf(c, source).filter((r) => refusedAt(c, r)).length;
    if (count !== refused)
      out.push({
        path: 'export (BigQuery)',
        feature: `(rejects of ${source})`,
        key: '',
        t: 0,
        got: reports,
        want: refused,
      });
  }
  rows.forEach((row, i) => {
    for (const [k, v] of Object.entries(want[i]!)) {
      const value = got.data![i]![k] ?? null;
      if (!sameFeatureValue(repo, accepted, k, row, value, v))
        out.push({
          path: 'export (BigQuery)',
          feature: k,
          key: `${String(row.user_id)} × ${String(row.product_id)}`,
          t: row.event_timestamp,
          got: value,
          want: v,
        });
    }
  });
  return out;
}

if (!bqEmulatorAvailable) {
  it.skip(`bigquery fuzzing — skipped: ${BQ_EMULATOR_BIN} not found (run: bash scripts/bqemu.sh install)`, () => {});
} else {
  describe('differential fuzzing: BigQuery SQL export (emulator) = reference', () => {
    let h: Harness;
    // The store's clock is the case's "now" (set per case).
    let now = 0;
    beforeAll(async () => {
      h = await bqEmulatorHarness({ clock: () => now });
    }, 60_000);
    afterAll(async () => {
      await h?.close();
    });
    const cases = fc.sample(caseArb({ shapes: knownDefectShapes(), maxRecords: 30 }), {
      seed: SEED,
      numRuns: CASES,
    });
    it.each(cases.map((c, i) => ({ c, name: String(i) })))(
      `case $name of seed ${SEED}`,
      async ({ c }) => {
        const anchored = atAnchor(c, ANCHOR);
        now = anchored.now;
        const mismatches = await checkBigQueryExport(h, anchored);
        expect(
          describeMismatches(mismatches),
          `replay: LARDER_FUZZ_SEED=${SEED} npx vitest run test/fuzz/fuzz-bigquery.services.test.ts`,
        ).toBe('');
      },
      60_000,
    );
  });
}

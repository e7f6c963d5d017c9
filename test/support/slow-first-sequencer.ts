/**
 * The order vitest starts test files in (`sequence.sequencer` in vitest.config.ts): the files
 * of {@link SLOW_FIRST}, longest first, then the others in vitest's own order (failed first,
 * then longest by its cache of results, or largest first when there is none, as on a fresh
 * clone in CI). With two files at a time, a long file started last would run alone at the end:
 * in session 10's CI the 124 s BigQuery emulator file started ~600 s into a 727 s run.
 */
import { relative, sep } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Test files that take 10 s or more, longest first. Vitest runs the integration files, then the
 * unit files, each group in this order; a file missing here starts late and may run alone at
 * the end of its group (in the run below, `consistency.redis` alone at the end of the
 * integration files, `materialize/consistency` at the very end). The seconds: a whole-suite run
 * of 2026-12-08 (2 workers, the machine loaded by other work, 17–31: about 4× the quiet time
 * for the unit files, 1–2× for most integration files); "CI" marks a file that did not run
 * there (no BigQuery emulator or podman), with its CI seconds of 2026-12-06. Files on the
 * shared Redis were slowed most there (other work used it too): redis.redis took 175 s, 4 s
 * alone, and is not listed. Re-order when a run shows otherwise. A test checks that each
 * exists.
 */
export const SLOW_FIRST: readonly string[] = [
  // The integration files (*.redis, *.kafka, *.services).
  'test/streaming/crash.kafka.test.ts', // 338 s (CI 81 s)
  'test/offline/bigquery-emulator.services.test.ts', // CI 124 s, before its fewer emulator runs
  'test/demo/demo.services.test.ts', // 178 s
  'test/streaming/offline-append-crash.kafka.test.ts', // CI 59 s
  'test/fuzz/fuzz-stream.kafka.test.ts', // 81 s
  'test/ops/container.services.test.ts', // CI 44 s
  'test/materialize/watermark-race.redis.test.ts', // 63 s (11 s alone, load 3)
  'test/materialize/consistency.redis.test.ts', // 58 s (10 s alone)
  'test/package/pack.services.test.ts', // 52 s
  'test/streaming/worker.kafka.test.ts', // 46 s
  'test/cli/materialize-overlap.redis.test.ts', // 45 s (9 s alone)
  'test/fuzz/fuzz-http.redis.test.ts', // 37 s
  'test/online/redis-outage.redis.test.ts', // 25 s
  'test/streaming/start-retry.kafka.test.ts', // 25 s
  'test/online/redis-cluster-failover.kafka.test.ts', // 23 s
  'test/streaming/generated-records.kafka.test.ts', // 21 s
  'test/streaming/store-outage.kafka.test.ts', // 20 s
  'test/fuzz/fuzz-avro.kafka.test.ts', // 18 s
  'test/streaming/sparse-records.kafka.test.ts', // 17 s
  'test/cli/topics-cli.kafka.test.ts', // 16 s
  'test/streaming/schema-evolution.kafka.test.ts', // 15 s
  'test/compat/feast-sdk.services.test.ts', // CI 14 s
  'test/offline/bigquery-append.services.test.ts', // CI 14 s
  'test/api/push-idempotency.redis.test.ts', // 15 s
  'test/streaming/failures.kafka.test.ts', // 9 s (CI 11 s)
  'test/fuzz/fuzz-cluster.kafka.test.ts', // 8 s (CI 10 s)
  // The unit files.
  'test/offline/validation-differential.test.ts', // 342 s
  'test/cli/cli-errors.test.ts', // 326 s
  'test/offline/pit-property.test.ts', // 160 s
  'test/scheduler/scheduler-processes.test.ts', // 117 s
  'test/fuzz/fuzz.test.ts', // 87 s
  'test/fuzz/sequence-last-only.test.ts', // 75 s
  'test/offline/duckdb.test.ts', // 75 s
  'test/offline/native-validate-edges.test.ts', // 74 s
  'test/offline/export-parquet-engines.test.ts', // 66 s
  'test/offline/sequence-export.test.ts', // 64 s
  'test/offline/native-validate.test.ts', // 63 s
  'test/cli/serve-workers.test.ts', // 61 s
  'test/offline/on-demand-large-export.test.ts', // 56 s
  'test/offline/sweep-ties-property.test.ts', // 55 s
  'test/cli/monitor-command.test.ts', // 54 s
  'test/cli/validate-command.test.ts', // 48 s
  'test/cli/init.test.ts', // 39 s
  'test/cli/cli.test.ts', // 38 s
  'test/cli/materialize-workers.test.ts', // 36 s
  'test/datagen/gen-data.test.ts', // CI 14 s (its setup timed out in the loaded run)
  'test/cli/batch-view-args.test.ts', // 33 s
  'test/cli/serve-logs.test.ts', // 33 s
  'test/materialize/consistency.test.ts', // 32 s
  'test/materialize/watermark-order.test.ts', // 31 s
  'test/monitoring/feature-log-shutdown.test.ts', // 31 s
  'test/offline/sweep-plan-scan.test.ts', // 30 s
  'test/cli/empty-sources.test.ts', // 30 s
];

export class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rest = await super.sort(files);
    const rank = (f: TestSpecification): number =>
      SLOW_FIRST.indexOf(relative(this.ctx.config.root, f.moduleId).split(sep).join('/'));
    const slow = rest.filter((f) => rank(f) >= 0).sort((a, b) => rank(a) - rank(b));
    return [...slow, ...rest.filter((f) => rank(f) < 0)];
  }
}

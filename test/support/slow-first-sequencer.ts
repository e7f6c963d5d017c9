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
 * Test files that take 10 s or more, longest first (CI log of 2026-12-06, 2 workers; re-order
 * when a CI log shows otherwise). A test checks that each exists.
 */
export const SLOW_FIRST: readonly string[] = [
  'test/streaming/crash.kafka.test.ts', // 81 s
  'test/cli/cli-errors.test.ts', // 79 s
  'test/offline/bigquery-emulator.services.test.ts', // 124 s before its fewer emulator runs
  'test/offline/validation-differential.test.ts', // 65 s
  'test/streaming/offline-append-crash.kafka.test.ts', // 59 s
  'test/offline/pit-property.test.ts', // 53 s
  'test/ops/container.services.test.ts', // 44 s
  'test/fuzz/fuzz-stream.kafka.test.ts', // 36 s
  'test/demo/demo.services.test.ts', // 30 s
  'test/scheduler/scheduler-processes.test.ts', // 29 s
  'test/package/pack.services.test.ts', // 28 s
  'test/offline/duckdb.test.ts', // 20 s
  'test/online/redis-cluster-failover.kafka.test.ts', // 20 s
  'test/fuzz/fuzz.test.ts', // 17 s
  'test/streaming/store-outage.kafka.test.ts', // 16 s
  'test/cli/init.test.ts', // 15 s
  'test/online/redis-outage.redis.test.ts', // 15 s
  'test/offline/export-parquet-engines.test.ts', // 15 s
  'test/cli/serve-workers.test.ts', // 15 s
  'test/compat/feast-sdk.services.test.ts', // 14 s
  'test/offline/bigquery-append.services.test.ts', // 14 s
  'test/datagen/gen-data.test.ts', // 14 s
  'test/cli/validate-command.test.ts', // 13 s
  'test/cli/monitor-command.test.ts', // 13 s
  'test/streaming/failures.kafka.test.ts', // 11 s
  'test/offline/sequence-export.test.ts', // 11 s
  'test/fuzz/fuzz-cluster.kafka.test.ts', // 10 s
  'test/cli/cli.test.ts', // 10 s
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

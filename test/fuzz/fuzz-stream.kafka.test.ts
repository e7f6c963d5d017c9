/**
 * Bounded differential fuzzing of the service paths (fixed seed; `LARDER_FUZZ_SEED` overrides
 * it, which is how `npm run fuzz -- --services` runs it): for a few arbitrary cases, on the real
 * Redis and Kafka, against the reference evaluator at times ≥ the case's "now"
 * (`service-paths.ts`):
 *
 * - materialized into Redis (`materialize`), materialized in two runs (the second incremental,
 *   after more records were appended), and pushed into Redis (`POST /push`'s handler);
 * - streamed: the records produced to fresh topics in arrival order and consumed by a stream
 *   worker process (clock pinned to "now") that is killed with SIGKILL twice — once after the
 *   first half, once while it applies the second — and restarted (`stream-path.ts`).
 *
 * The same paths on a Redis Cluster: `fuzz-cluster.kafka.test.ts`.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { REDIS_URL } from '../streaming/stream-fixture.ts';
import { describeMismatches } from './differential.ts';
import { caseArb } from './fuzz-case.ts';
import { knownDefectShapes } from './known-defects.ts';
import { checkServicePaths } from './service-paths.ts';
import { StreamPath } from './stream-path.ts';

const SEED = Number(process.env.LARDER_FUZZ_SEED ?? 1313);
const CASES = 3;

const stream = new StreamPath({ type: 'redis', url: REDIS_URL });
afterEach(() => stream.cleanup());

describe('differential fuzzing: materialized, pushed and streamed Redis = reference', () => {
  const shapes = knownDefectShapes();
  const cases = fc.sample(caseArb({ shapes, maxRecords: 40 }), { seed: SEED, numRuns: CASES });

  it.each(cases.map((c, i) => ({ c, name: String(i) })))(
    `case $name of seed ${SEED}`,
    async ({ c }) => {
      const mismatches = await checkServicePaths(c, 'Redis', stream, shapes);
      expect(
        describeMismatches(mismatches),
        `replay: LARDER_FUZZ_SEED=${SEED} npx vitest run test/fuzz/fuzz-stream.kafka.test.ts`,
      ).toBe('');
    },
    120_000,
  );
});

/**
 * The service paths of the differential fuzzer (`service-paths.ts`: materialized, materialized
 * incrementally, pushed, streamed with a twice-killed worker) on a real three-master Redis
 * Cluster (`startRedisCluster`), against the reference: keys with `{…}` hash tags, pipelines
 * over several slots and masters, composite keys of two-entity views. Fixed seed, its own so it
 * meets other cases than the Redis test (`LARDER_FUZZ_SEED` overrides it, which is how
 * `npm run fuzz -- --services` runs it); one case, to stay within the suite's budget.
 */
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startRedisCluster, type LocalRedisCluster } from '../support/redis-cluster.ts';
import { describeMismatches } from './differential.ts';
import { caseArb } from './fuzz-case.ts';
import { knownDefectShapes } from './known-defects.ts';
import { checkServicePaths } from './service-paths.ts';
import { StreamPath } from './stream-path.ts';

const SEED = Number(process.env.LARDER_FUZZ_SEED ?? 1414);
const CASES = 1;

let cluster: LocalRedisCluster;
let stream: StreamPath;
beforeAll(async () => {
  cluster = await startRedisCluster(3);
  stream = new StreamPath({ type: 'redis-cluster', nodes: cluster.nodes, maxRetriesPerRequest: 1 });
}, 60_000);
afterEach(() => stream?.cleanup());
afterAll(async () => {
  await cluster?.stop();
});

describe('differential fuzzing: materialized, pushed and streamed Redis Cluster = reference', () => {
  const shapes = knownDefectShapes();
  const cases = fc.sample(caseArb({ shapes, maxRecords: 40 }), { seed: SEED, numRuns: CASES });

  it.each(cases.map((c, i) => ({ c, name: String(i) })))(
    `case $name of seed ${SEED}`,
    async ({ c }) => {
      const mismatches = await checkServicePaths(c, 'Redis Cluster', stream, shapes);
      expect(
        describeMismatches(mismatches),
        `replay: LARDER_FUZZ_SEED=${SEED} npx vitest run test/fuzz/fuzz-cluster.kafka.test.ts`,
      ).toBe('');
    },
    120_000,
  );
});

/**
 * Bounded differential fuzzing through the HTTP and gRPC layers on Redis (fixed seed;
 * `LARDER_FUZZ_SEED` overrides it): as `fuzz-http.test.ts` on SQLite, each case's records pushed
 * through `POST /push` as JSON and every feature read through `POST /get-online-features` on
 * the fast path and on fastify's path and through gRPC `GetOnlineFeatures`, against the
 * reference (`http-paths.ts`), here on the shared Redis at a plain `redis://` URL: the reads
 * take the plain-command read connection and its memos (`online/redis/plain-reads.ts`). Each
 * case has a namespace of its own, torn down after it; its "now" lies within a day after the
 * wall clock, as Redis expires keys on its own clock.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_URL } from '../streaming/stream-fixture.ts';
import { describeMismatches } from './differential.ts';
import { caseArb, nearWallClock } from './fuzz-case.ts';
import { openHttpEnv, type HttpEnv } from './http-paths.ts';
import { knownDefectShapes } from './known-defects.ts';

const SEED = Number(process.env.LARDER_FUZZ_SEED ?? 1919);
const CASES = 6;

describe('differential fuzzing: pushed over HTTP into Redis, read over HTTP (fast path, fastify) and gRPC = reference', () => {
  let env: HttpEnv;
  beforeAll(async () => {
    env = await openHttpEnv({ store: { type: 'redis', url: REDIS_URL } });
  });
  afterAll(async () => {
    await env?.close();
  });

  const cases = fc.sample(caseArb({ shapes: knownDefectShapes() }), {
    seed: SEED,
    numRuns: CASES,
  });

  it.each(cases.map((c, i) => ({ c, name: String(i) })))(
    `case $name of seed ${SEED}`,
    async ({ c }) => {
      const before = env.counts();
      const mismatches = await env.check(nearWallClock(c));
      expect(
        describeMismatches(mismatches),
        `replay: LARDER_FUZZ_SEED=${SEED} npx vitest run test/fuzz/fuzz-http.redis.test.ts`,
      ).toBe('');
      // Every path was taken: reads on the fast path, on fastify's and over gRPC.
      const after = env.counts();
      expect(after.fastPath).toBeGreaterThan(before.fastPath);
      expect(after.grpc).toBeGreaterThan(before.grpc);
    },
    30_000,
  );
});

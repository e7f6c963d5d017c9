/**
 * Bounded differential fuzzing through the HTTP and gRPC layers (fixed seed, in process, no
 * services): each case's records pushed through `POST /push` as JSON and every feature read
 * through `POST /get-online-features` on the fast path and on fastify's path, and through gRPC
 * `GetOnlineFeatures`, against the reference (`http-paths.ts`).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeMismatches } from './differential.ts';
import { atAnchor, caseArb } from './fuzz-case.ts';
import { openHttpEnv, type HttpEnv } from './http-paths.ts';
import { ANCHOR } from './in-process.ts';
import { knownDefectShapes } from './known-defects.ts';

const SEED = Number(process.env.LARDER_FUZZ_SEED ?? 1414);
const CASES = 6;

describe('differential fuzzing: pushed over HTTP, read over HTTP (fast path, fastify) and gRPC = reference', () => {
  let env: HttpEnv;
  beforeAll(async () => {
    env = await openHttpEnv();
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
      const mismatches = await env.check(atAnchor(c, ANCHOR));
      expect(
        describeMismatches(mismatches),
        `replay: LARDER_FUZZ_SEED=${SEED} npx vitest run test/fuzz/fuzz-http.test.ts`,
      ).toBe('');
      // Every path was taken: reads on the fast path, on fastify's and over gRPC.
      const after = env.counts();
      expect(after.fastPath).toBeGreaterThan(before.fastPath);
      expect(after.grpc).toBeGreaterThan(before.grpc);
      expect(after.fastify - before.fastify).toBeGreaterThanOrEqual(
        after.fastPath - before.fastPath,
      );
    },
    30_000,
  );
});

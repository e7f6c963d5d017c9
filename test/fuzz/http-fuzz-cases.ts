/**
 * The bounded HTTP and gRPC differential cases of one online store, registered as a vitest
 * `describe`: `cases` fuzz cases of a fixed seed (`LARDER_FUZZ_SEED` overrides it), each pushed
 * through `POST /push` and read on the fast path, fastify's path and gRPC against the reference
 * (`http-paths.ts`), each asserting that every path was taken. `place` moves a case to the time
 * the store needs (a fixed anchor, or near the wall clock for a store that expires keys on its
 * own clock).
 *
 * @example
 * describeHttpFuzz({ title: 'on SQLite', file: 'test/fuzz/fuzz-http.test.ts', seed: 1414, place: (c) => atAnchor(c, ANCHOR) });
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OnlineStoreConfig } from '../../config/config.ts';
import { describeMismatches } from './differential.ts';
import { caseArb, type FuzzCase } from './fuzz-case.ts';
import { openHttpEnv, type HttpEnv } from './http-paths.ts';
import { knownDefectShapes } from './known-defects.ts';

export function describeHttpFuzz(o: {
  title: string;
  /** The test file, for the replay line of a failure. */
  file: string;
  /** The default seed. */
  seed: number;
  store?: OnlineStoreConfig;
  place: (c: FuzzCase) => FuzzCase;
  cases?: number;
}): void {
  const seed = Number(process.env.LARDER_FUZZ_SEED ?? o.seed);
  describe(o.title, () => {
    let env: HttpEnv;
    beforeAll(async () => {
      env = await openHttpEnv(o.store ? { store: o.store } : {});
    });
    afterAll(async () => {
      await env?.close();
    });

    const cases = fc.sample(caseArb({ shapes: knownDefectShapes() }), {
      seed,
      numRuns: o.cases ?? 6,
    });

    it.each(cases.map((c, i) => ({ c, name: String(i) })))(
      `case $name of seed ${seed}`,
      async ({ c }) => {
        const before = env.counts();
        const mismatches = await env.check(o.place(c));
        expect(
          describeMismatches(mismatches),
          `replay: LARDER_FUZZ_SEED=${seed} npx vitest run ${o.file}`,
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
}

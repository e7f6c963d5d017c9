/**
 * Bounded differential fuzzing of the in-process paths (fixed seed, so every `npm test` runs
 * the same cases): arbitrary feature views × arbitrary schema-valid records, exported with both
 * DuckDB engines, materialized into SQLite (in one run, and incrementally in two), pushed into
 * SQLite, and sent as Avro stream messages decoded and folded as the worker does, against the
 * reference.
 * `npm run fuzz -- --minutes N` runs the same check longer with a random seed.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeMismatches } from './differential.ts';
import { atAnchor, caseArb } from './fuzz-case.ts';
import { ANCHOR, openInProcessEnv, type InProcessEnv } from './in-process.ts';
import { knownDefectShapes } from './known-defects.ts';

export const BOUNDED_SEED = 1313;

describe('differential fuzzing: export (sweep, sql), materialized and pushed SQLite = reference', () => {
  let env: InProcessEnv;
  beforeAll(async () => {
    env = await openInProcessEnv();
  });
  afterAll(async () => {
    await env?.close();
  });

  it('agrees on arbitrary views and records (bounded run)', async () => {
    let compared = 0;
    await fc.assert(
      fc.asyncProperty(caseArb({ shapes: knownDefectShapes() }), async (c) => {
        const mismatches = await env.check(atAnchor(c, ANCHOR));
        compared++;
        expect(describeMismatches(mismatches)).toBe('');
      }),
      {
        seed: BOUNDED_SEED,
        numRuns: 30,
        // Shrinking re-runs every path: a failure is reported with the case shrunk as far as
        // the run's first 90 s get (within the test's timeout).
        interruptAfterTimeLimit: 90_000,
      },
    );
    expect(compared).toBeGreaterThan(0);
    // Most records reach the stream decoder as Avro (the rest: ints the .avsc's int cannot hold).
    expect(env.avroRecords.avro).toBeGreaterThan(env.avroRecords.json);
  }, 120_000);
});

/**
 * Bounded differential fuzzing of the Avro stream path through the real worker (fixed seed;
 * `LARDER_FUZZ_SEED` overrides it): one case's records produced to fresh topics as
 * Confluent-wire Avro (`avro-path.ts`: the `.avsc`, or the `.avsc` plus a record's extra fields
 * from an in-process schema registry the worker is given; JSON for a record the `.avsc` cannot
 * carry), consumed by a stream worker process killed with SIGKILL twice and restarted
 * (`stream-path.ts`), into Redis, against the reference at times ≥ the case's "now".
 */
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS } from '../../core/duration.ts';
import { REDIS_URL } from '../streaming/stream-fixture.ts';
import { openAvroProducer, type AvroProducer } from './avro-path.ts';
import { buildRepository } from './definitions.ts';
import {
  describeMismatches,
  onlineAcceptedCase,
  onlineReadRows,
  referenceValues,
} from './differential.ts';
import { atAnchor, caseArb } from './fuzz-case.ts';
import { knownDefectShapes } from './known-defects.ts';
import { StreamPath } from './stream-path.ts';

// A case of both sources whose reads see data (64 non-empty reference values).
const SEED = Number(process.env.LARDER_FUZZ_SEED ?? 1519);

let producer: AvroProducer;
let stream: StreamPath;
beforeAll(async () => {
  producer = await openAvroProducer(buildRepository([]));
  stream = new StreamPath({ type: 'redis', url: REDIS_URL }, producer);
});
afterEach(() => stream.cleanup());
afterAll(() => producer?.close());

describe('differential fuzzing: streamed as Avro through the worker into Redis = reference', () => {
  const [raw] = fc.sample(caseArb({ shapes: knownDefectShapes(), maxRecords: 40 }), {
    seed: SEED,
    numRuns: 1,
  });

  it(`case 0 of seed ${SEED}`, async () => {
    // "now" within a day after the wall clock (Redis expires keys on the real clock).
    const c = atAnchor(raw!, (Math.floor((Date.now() - raw!.now) / DAY_MS) + 1) * DAY_MS);
    const mismatches = await stream.check('streamed as Avro, worker killed twice (Redis)', c);
    expect(
      describeMismatches(mismatches),
      `replay: LARDER_FUZZ_SEED=${SEED} npx vitest run test/fuzz/fuzz-avro.kafka.test.ts`,
    ).toBe('');
    expect(stream.sent.avro).toBeGreaterThan(stream.sent.json);
    // The reads see data: the comparison is not of empty windows only (the fixed seed's case;
    // `npm run fuzz -- --services` passes random ones).
    if (process.env.LARDER_FUZZ_SEED !== undefined) return;
    const accepted = onlineAcceptedCase(c);
    const want = referenceValues(
      buildRepository(c.plans, c.onDemand),
      accepted,
      onlineReadRows(accepted),
    );
    const empty = (v: unknown): boolean =>
      v === null || v === 0 || (Array.isArray(v) && v.length === 0);
    expect(want.flatMap((r) => Object.values(r)).filter((v) => !empty(v)).length).toBeGreaterThan(
      10,
    );
  }, 60_000);
});

/**
 * `count_previous` views whose memory hop holds only `~last` states: materialization reads
 * from DuckDB only the latest events of each entity and hop of that size, and only from each
 * hop size's first serving hop (offline/duckdb/sequence-tile-records.ts
 * `sequenceEventsFilter`, `SequenceTile.latestOnly`). Random cases built to hit that filter —
 * ties (several ids, and one id twice) at an entity's latest time in a hop, events exactly on
 * hop boundaries and a millisecond either side, events older than the first serving hop (and
 * older than the TTL), records arriving late for the incremental run — run every in-process
 * path of the differential fuzzer (both exports, materialized into SQLite in one run and
 * incrementally, pushed, streamed as Avro) against the brute-force reference.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS, MINUTE_MS } from '../../core/duration.ts';
import { memoryHopMs } from '../../core/sequence.ts';
import type { FeaturePlan, ViewPlan } from './definitions.ts';
import { describeMismatches } from './differential.ts';
import { atAnchor, type FuzzCase } from './fuzz-case.ts';
import { ANCHOR, openInProcessEnv, type InProcessEnv } from './in-process.ts';

const NOW = 40 * DAY_MS + 7 * MINUTE_MS + 1;
const USERS = ['u1', 'u2'];

/**
 * A TTL, and a window and hop whose hop size is not the memory hop (so that memory hop holds
 * `~last` states only); the TTL well past the window plus a memory hop, so a window event's
 * previous event may lie where only `~last` states remember it.
 */
const shapeArb = fc.constantFrom(
  { ttlMinutes: 600, windowMinutes: 30, hopMinutes: 10 }, // memory hop 1 h
  { ttlMinutes: 600, windowMinutes: 5, hopMinutes: 1 },
  { ttlMinutes: 3 * 24 * 60, windowMinutes: 60, hopMinutes: 5 }, // memory hop 1 day
);

const featureArb = (shape: { windowMinutes: number; hopMinutes: number }, name: string) =>
  fc
    .record({
      relation: fc.oneof(
        fc.record({ gapBelowMs: fc.constantFrom(1, 100, 60_000) }),
        fc.record({ input: fc.constantFrom({ col: 'status' }, { col: 'currency' }) }),
      ),
      where: fc.option(fc.constant({ cmp: 'ne' as const, arg: { col: 'status' }, value: 'x' }), {
        freq: 3,
      }),
    })
    .map(({ relation, where }): FeaturePlan => ({
      name,
      aggregation: 'count_previous',
      input: null,
      weight: null,
      where,
      windowMinutes: shape.windowMinutes,
      hopMinutes: shape.hopMinutes,
      ...relation,
    }));

const caseArb: fc.Arbitrary<FuzzCase> = fc
  .tuple(shapeArb, fc.integer({ min: 2, max: 1000 }))
  .chain(([shape, pick]) => {
    const ttl = shape.ttlMinutes * MINUTE_MS;
    const m = memoryHopMs(ttl);
    const hop = shape.hopMinutes * MINUTE_MS;
    const lastMemoryHop = Math.floor(NOW / m) * m;
    /**
     * An older memory hop within the TTL, before the window's tiles: there the events tiles
     * are not served, and a window event's previous event is its `~last` state.
     */
    const old = lastMemoryHop - (2 + (pick % (ttl / m - 1))) * m;
    /**
     * Record times: mostly in that old hop (several times, its edges) and in the window (on and
     * next to hop edges); else on and next to other memory hop edges, before the first serving
     * hop, past the TTL, anywhere.
     */
    const timeArb = fc.oneof(
      {
        weight: 3,
        arbitrary: fc.constantFrom(0, 1, 1000, m / 2, m / 2 + 1, m - 1).map((d) => old + d),
      },
      {
        weight: 3,
        arbitrary: fc
          .tuple(fc.integer({ min: -3, max: 0 }), fc.constantFrom(-1, 0, 1))
          .map(([k, d]) => Math.min(NOW, Math.floor(NOW / hop) * hop + k * hop + d)),
      },
      {
        weight: 1,
        arbitrary: fc
          .tuple(fc.integer({ min: -(ttl / m) - 1, max: 0 }), fc.constantFrom(-1, 0, 1))
          .map(([k, d]) => lastMemoryHop + k * m + d),
      },
      {
        weight: 1,
        arbitrary: fc.constantFrom(NOW - ttl, NOW - ttl - 1, NOW - ttl - m, NOW - 2 * ttl - m),
      },
      { weight: 1, arbitrary: fc.integer({ min: NOW - 2 * ttl - m, max: NOW }) },
    );
    const recordArb = fc.record({
      id: fc.constantFrom('t1', 't2', 't3', 'T', 'é', 't10'),
      user: fc.constantFrom(...USERS),
      at: timeArb,
      status: fc.constantFrom('completed', 'x', 'pending'),
      currency: fc.constantFrom('EUR', 'USD'),
    });
    const plan = (features: FeaturePlan[]): ViewPlan => ({
      name: 'v0',
      source: 'transactions',
      entity: 'user',
      key: { col: 'userId' },
      filter: null,
      ttlMinutes: shape.ttlMinutes,
      features,
    });
    return fc
      .record({
        features: fc.tuple(featureArb(shape, 'p0'), fc.option(featureArb(shape, 'p1'))),
        records: fc.array(recordArb, { minLength: 1, maxLength: 16 }),
        // A few records more at the time of one of them (ties: the latest of its hop, often).
        ties: fc.array(fc.constantFrom('t2', 't9', 'A', 'é'), { maxLength: 3 }),
        tieAt: fc.nat(),
        readAt: fc.array(fc.constantFrom(0, 1, hop - 1, hop, m - 1, m, 5 * MINUTE_MS), {
          minLength: 1,
          maxLength: 3,
        }),
      })
      .map(({ features, records, ties, tieAt, readAt }) => {
        const latest = Math.max(...records.map((r) => r.at));
        const tied = records[tieAt % records.length]!;
        const all = [
          ...records,
          ...ties.map((id, i) => ({
            id,
            user: tied.user,
            at: tied.at,
            status: i % 2 ? 'x' : 'completed',
            currency: 'EUR',
          })),
        ];
        return {
          plans: [plan(features[1] ? [features[0], features[1]] : [features[0]])],
          now: NOW,
          records: all.map((r) => ({
            source: 'transactions' as const,
            record: {
              transactionId: r.id,
              userId: r.user,
              orderItems: [],
              totalAmount: 1,
              currency: r.currency,
              paymentMethod: 'card',
              status: r.status,
              timestamp: r.at,
            },
          })),
          exportRows: USERS.flatMap((u) =>
            [NOW - ttl, NOW - m, latest, NOW].map((t) => ({ user_id: u, product_id: 'p', t })),
          ),
          onlineReads: USERS.flatMap((u) =>
            readAt.map((d) => ({ user_id: u, product_id: 'p', t: NOW + d })),
          ),
        };
      });
  });

describe('count_previous with ~last-only hop sizes, every path against the reference', () => {
  let env: InProcessEnv;
  beforeAll(async () => {
    env = await openInProcessEnv();
  });
  afterAll(async () => {
    await env?.close();
  });

  it('ties at the latest time, hop edges, late records, records before the first serving hop', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        expect(describeMismatches(await env.check(atAnchor(c, ANCHOR)))).toBe('');
      }),
      { seed: 190_002, numRuns: 40 },
    );
  }, 180_000);
});

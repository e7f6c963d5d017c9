/**
 * An arbitrary batch view (SQL snapshot) for the fuzzer (`batch-view-path.ts`): over either
 * source, keyed by user or product, an optional filter, a window (or none), snapshots every
 * hour or day with or without an offset, a TTL shorter or longer than the period, and one query
 * shape whose brute-force value is plain: per entity, the count of rows, the greatest number,
 * the least string (by code point) and the count of distinct strings.
 */
import fc from 'fast-check';
import { predicateArb, type BatchPlan, type ExprPlan, type SourceName } from './definitions.ts';

export type { BatchPlan };

const NUM: Record<SourceName, ExprPlan[]> = {
  user_events: [{ col: 'timestamp' }, { col: 'properties.price', toNumber: true }],
  transactions: [{ col: 'totalAmount' }, { col: 'timestamp' }],
};
const STR: Record<SourceName, ExprPlan[]> = {
  user_events: [{ col: 'eventType' }, { col: 'sessionId' }, { col: 'properties.category' }],
  transactions: [{ col: 'status' }, { col: 'currency' }, { col: 'userId' }],
};

export const batchPlanArb: fc.Arbitrary<BatchPlan> = fc
  .record({
    source: fc.constantFrom('user_events' as const, 'transactions' as const),
    every: fc.constantFrom(60, 24 * 60),
    offsetSteps: fc.constantFrom(0, 1),
    ttlFactor: fc.constantFrom(0.5, 1, 2),
    windowFactor: fc.constantFrom(null, 1, 7, 30),
    pick: fc.nat(),
  })
  .chain(({ source, every, offsetSteps, ttlFactor, windowFactor, pick }) =>
    fc.record({
      source: fc.constant(source),
      entity: fc.constant(
        source === 'user_events' && pick % 2 === 1 ? ('product' as const) : ('user' as const),
      ),
      key: fc.constant(
        source === 'user_events' && pick % 2 === 1
          ? { col: 'properties.productId' }
          : { col: 'userId' },
      ),
      filter: fc.option(predicateArb(source), { freq: 2 }),
      windowMinutes: fc.constant(windowFactor === null ? null : windowFactor * every),
      everyMinutes: fc.constant(every),
      // An offset of a quarter of the period (15 minutes, 6 hours) or none.
      offsetMinutes: fc.constant((offsetSteps * every) / 4),
      ttlMinutes: fc.constant(ttlFactor * every),
      num: fc.constantFrom(...NUM[source]),
      str: fc.constantFrom(...STR[source]),
    }),
  );

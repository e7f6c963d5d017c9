import type { AggregationKind, Aggregator } from './aggregator.ts';
import { avgAggregator } from './avg-aggregator.ts';
import { countAggregator } from './count-aggregator.ts';
import { lastAggregator } from './last-aggregator.ts';
import { maxAggregator, minAggregator } from './min-max-aggregator.ts';
import { modeAggregator } from './mode-aggregator.ts';
import { sumAggregator } from './sum-aggregator.ts';

const AGGREGATORS: Record<AggregationKind, Aggregator<unknown>> = {
  count: countAggregator as Aggregator<unknown>,
  sum: sumAggregator as Aggregator<unknown>,
  avg: avgAggregator as Aggregator<unknown>,
  min: minAggregator as Aggregator<unknown>,
  max: maxAggregator as Aggregator<unknown>,
  last: lastAggregator as Aggregator<unknown>,
  mode: modeAggregator as Aggregator<unknown>,
};

/**
 * The aggregator for a kind. Aggregators are stateless singletons; all state lives in the
 * values they return.
 *
 * @example
 * const agg = aggregator('max');
 * agg.finish(agg.add(agg.init(), 42, ts, id, 1)); // 42
 */
export function aggregator(kind: AggregationKind): Aggregator<unknown> {
  if (!Object.hasOwn(AGGREGATORS, kind))
    throw new RangeError(`unknown aggregation "${String(kind)}"`);
  return AGGREGATORS[kind];
}

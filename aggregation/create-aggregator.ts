import type { AggregationKind, AggregationParams, Aggregator } from './aggregator.ts';
import { avgAggregator } from './avg-aggregator.ts';
import { countAggregator } from './count-aggregator.ts';
import { countDistinctAggregator } from './count-distinct-aggregator.ts';
import { lastAggregator } from './last-aggregator.ts';
import { lastNAggregator } from './last-n-aggregator.ts';
import { maxAggregator, minAggregator } from './min-max-aggregator.ts';
import { modeAggregator } from './mode-aggregator.ts';
import { sumAggregator } from './sum-aggregator.ts';

const AGGREGATORS: Record<Exclude<AggregationKind, 'last_n'>, Aggregator<unknown>> = {
  count: countAggregator as Aggregator<unknown>,
  sum: sumAggregator as Aggregator<unknown>,
  avg: avgAggregator as Aggregator<unknown>,
  min: minAggregator as Aggregator<unknown>,
  max: maxAggregator as Aggregator<unknown>,
  last: lastAggregator as Aggregator<unknown>,
  mode: modeAggregator as Aggregator<unknown>,
  count_distinct: countDistinctAggregator as Aggregator<unknown>,
};

const lastNCache = new Map<string, Aggregator<unknown>>();

/**
 * The aggregator for a kind. Aggregators are stateless; all state lives in the values they
 * return. `last_n` takes its parameters (`n` required, 1..MAX_LAST_N; `distinct` default false);
 * the other kinds ignore them.
 *
 * @example
 * const agg = aggregator('max');
 * agg.finish(agg.add(agg.init(), 42, ts, id, 1)); // 42
 * aggregator('last_n', { n: 10, distinct: true });
 */
export function aggregator(
  kind: AggregationKind,
  params: AggregationParams = {},
): Aggregator<unknown> {
  if (kind === 'last_n') {
    const n = params.n ?? NaN;
    const distinct = params.distinct ?? false;
    const key = `${n}/${distinct}`;
    let agg = lastNCache.get(key);
    if (!agg) lastNCache.set(key, (agg = lastNAggregator(n, distinct) as Aggregator<unknown>));
    return agg;
  }
  if (!Object.hasOwn(AGGREGATORS, kind))
    throw new RangeError(`unknown aggregation "${String(kind)}"`);
  return AGGREGATORS[kind];
}

import type { AggregationEvent, AggregationKind, AggregationParams } from './aggregator.ts';
import { aggregator } from './create-aggregator.ts';
import { assertWindow, hopIndex } from './hop-window.ts';

/**
 * Groups events by hop index and folds each group with the kind's `add` (weight defaults to 1):
 * the tiles a materialization job or a test writes (`params`: `last_n`'s `n` and `distinct`). Events are not filtered by time; pass only
 * those at or before the read time you will evaluate at.
 *
 * @example
 * const tiles = buildTiles('sum', events, MINUTE_MS);
 * evaluateTiles(aggregator('sum'), tiles, t, HOUR_MS, MINUTE_MS);
 */
export function buildTiles(
  kind: AggregationKind,
  events: Iterable<AggregationEvent>,
  hopMs: number,
  params: AggregationParams = {},
): Map<number, unknown> {
  assertWindow(hopMs, hopMs);
  const agg = aggregator(kind, params);
  const tiles = new Map<number, unknown>();
  for (const e of events) {
    const k = hopIndex(e.ts, hopMs);
    const state = tiles.has(k) ? tiles.get(k) : agg.init();
    tiles.set(k, agg.add(state, e.value, e.ts, e.id, e.weight ?? 1));
  }
  return tiles;
}

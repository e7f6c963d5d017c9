import type { FeatureValue } from '../core/types.ts';
import type { Aggregator } from './aggregator.ts';
import { windowHops } from './hop-window.ts';

/**
 * The windowed feature value at `t` from per-hop tiles: merges the states whose hop index is in
 * {@link windowHops}`(t, W, H)`, ignores the others, and finishes. The tiles are not mutated.
 * The caller guarantees the tiles hold no event after `t` (the current hop's tile is partial).
 *
 * @example
 * const agg = aggregator('count');
 * evaluateTiles(agg, buildTiles('count', events, MINUTE_MS), t, HOUR_MS, MINUTE_MS);
 */
export function evaluateTiles<S>(
  agg: Aggregator<S>,
  tiles: Iterable<readonly [hopIndex: number, state: S]>,
  t: number,
  windowMs: number,
  hopMs: number,
): FeatureValue | null {
  const { first, last } = windowHops(t, windowMs, hopMs);
  let acc = agg.init();
  for (const [k, state] of tiles) {
    if (k >= first && k <= last) acc = agg.merge(acc, state);
  }
  return agg.finish(acc);
}

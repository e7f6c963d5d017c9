/**
 * From `computeTiles` output to the online store's unit of exchange (`aggregation/tiles.ts`).
 *
 * Which tiles serve every feature of a view at any read time `t >= end`: a windowed feature
 * (window W, hop H) read at `t` merges hops `floor(t/H) - W/H + 1 … floor(t/H)`, so for
 * `t >= end` it never needs a hop before `floor(end/H) - W/H + 1`. Materializing the events of
 * `[tilesStart(view, end), end)` therefore yields every tile that intersects
 * `[end - maxWindow, end]`; hops at or after `end` are filled by the stream worker. Lifetime
 * `last` features need one state per entity as of `end` (events `< end`), evaluated later with
 * `evaluateLifetime(state, t, ttl)`.
 *
 * @example
 * const { batches } = await store.computeTiles(view, { repo, start: tilesStart(view, end), end });
 * for await (const b of batches) await online.writeTiles(toTileWrites(view.name, b));
 */
import { windowStart } from '../aggregation/index.ts';
import type { FeatureViewSpec } from '../definitions/spec.ts';
import { encodeEntityKey, type LifetimeWrite, type TileWrite } from '../aggregation/tiles.ts';
import type { TileBatch } from './offline-store.ts';
import type { Scalar } from '../core/types.ts';
import { isSequenceKind } from '../core/sequence.ts';
import { sequenceTiles } from '../aggregation/sequence-tiles.ts';

export interface TileWrites {
  tiles: TileWrite[];
  lifetime: LifetimeWrite[];
}

/**
 * The writes of one `computeTiles` batch of view `view`. A key array shared by consecutive
 * records (an entity's records, as the offline stores give them) is encoded once.
 */
export function toTileWrites(view: string, batch: TileBatch): TileWrites {
  let key: readonly Scalar[] | null = null;
  let entityKey = '';
  const encode = (k: readonly Scalar[]): string =>
    k === key ? entityKey : ((key = k), (entityKey = encodeEntityKey(k)));
  return {
    tiles: batch.tiles.map((t) => ({
      view,
      entityKey: encode(t.key),
      hopMs: t.hopMs,
      hop: t.hop,
      states: t.states,
    })),
    lifetime: batch.lifetime.map((l) => ({
      view,
      entityKey: encode(l.key),
      states: l.states,
    })),
  };
}

/**
 * The earliest event time whose tile a read at any `t >= end` can use: the minimum over the
 * view's windowed features of `windowStart(end, W, H)` (`end` itself when it has none).
 */
export function tilesStart(view: FeatureViewSpec, end: number): number {
  let start = end;
  for (const w of tileWindows(view)) start = Math.min(start, windowStart(end, w.windowMs, w.hopMs));
  return start;
}

/**
 * The (window, hop) of every tile state of a view: windowed features' own, and for sequence
 * features their states' hops and retention windows (`aggregation/sequence-tiles.ts`).
 */
function tileWindows(view: FeatureViewSpec): { windowMs: number; hopMs: number }[] {
  return view.features.flatMap((f) =>
    isSequenceKind(f.aggregation)
      ? sequenceTiles({ ...f, aggregation: f.aggregation }, view.ttlMs)
      : f.windowMs !== null && f.hopMs !== null
        ? [{ windowMs: f.windowMs, hopMs: f.hopMs }]
        : [],
  );
}

/** Every hop size a view's tiles use. */
export function tileHops(view: FeatureViewSpec): number[] {
  return [...new Set(tileWindows(view).map((w) => w.hopMs))];
}

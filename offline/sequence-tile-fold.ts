/**
 * `computeTiles` (materialization) of sequence features, the part every offline store shares:
 * each event of `[start, end)` — with the feature's `where` flag and compared field — is folded
 * into the aggregation library's sequence states (`aggregation/sequence-tiles.ts`), the very
 * states the stream worker and push build, so a materialized entity reads as a streamed one.
 * The events may come in any order. Tiles stay in memory, to be combined with the view's other
 * tiles of the same hops (a tile field is written whole).
 */
import { hopIndex, sequenceTiles, type SequenceTile } from '../aggregation/index.ts';
import type { SequenceKind } from '../core/sequence.ts';
import type { Scalar } from '../core/types.ts';
import type { FeatureSpec } from '../definitions/spec.ts';
import type { TileRecord } from './offline-store.ts';

/** Tile records keyed by `key \0 hopMs \0 hop`. */
export type TileRecords = Map<string, TileRecord>;

export const tileRecordId = (key: readonly unknown[], hopMs: number, hop: number): string =>
  `${key.map(String).join('\u0001')}\u0000${hopMs}\u0000${hop}`;

/** Folds sequence events of `features` (by index) into `into`. */
export class SequenceTileFolder {
  readonly #states: SequenceTile[][];
  readonly #into: TileRecords;

  constructor(features: readonly FeatureSpec[], ttlMs: number, into: TileRecords) {
    this.#states = features.map((f) =>
      sequenceTiles({ ...f, aggregation: f.aggregation as SequenceKind }, ttlMs),
    );
    this.#into = into;
  }

  /** Adds one event of the entity `key` to feature `j`'s states. */
  add(
    j: number,
    key: Scalar[],
    event: { ts: number; id: string; value: Scalar | null; match: boolean },
  ): void {
    for (const t of this.#states[j]!) {
      const hop = hopIndex(event.ts, t.hopMs);
      const rid = tileRecordId(key, t.hopMs, hop);
      let rec = this.#into.get(rid);
      if (!rec) this.#into.set(rid, (rec = { key, hopMs: t.hopMs, hop, states: {} }));
      const s = rec.states;
      s[t.key] = t.add(Object.hasOwn(s, t.key) ? s[t.key] : t.init(), event);
    }
  }
}

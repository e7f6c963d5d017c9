/**
 * `computeTiles` (materialization) of sequence features, the part every offline store shares:
 * each event of `[start, end)` — with the feature's `where` flag and compared field — is folded
 * into the aggregation library's sequence states (`aggregation/sequence-tiles.ts`), the very
 * states the stream worker and push build, so a materialized entity reads as a streamed one.
 * The events may come in any order. Tiles stay in memory, to be combined with the view's other
 * tiles of the same hops (a tile field is written whole). The folder owns the states it builds
 * (from `init()`, read only once the fold is done), so it adds in place (`addOwned`, as the
 * stream worker's fold does) instead of copying a tile per event: a tile of n events cost
 * O(n²) copying.
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

/** One event of an entity for every feature (by index): its compared value and `where` flag. */
export interface SequenceRow {
  ts: number;
  id: string;
  values: readonly (Scalar | null)[];
  matches: readonly boolean[];
}

/** Folds sequence events of `features` (by index) into `into`. */
export class SequenceTileFolder {
  readonly #states: SequenceTile[][];
  readonly #into: TileRecords;
  /** The states by hop size: each event's tile of a hop size is looked up once for all. */
  readonly #byHop: {
    hopMs: number;
    first: number;
    states: { j: number; t: SequenceTile }[];
    /** The last event's tile: events in key order hit it without building an id. */
    last: { keyId: string; hop: number; rec: TileRecord } | null;
  }[] = [];
  /** The last row's key array and its id: an entity's rows share one array (`addRow`). */
  #key: Scalar[] | null = null;
  #keyId = '';
  /** One event per feature, refilled for each row (`addOwned` copies what it keeps). */
  readonly #events: { ts: number; id: string; value: Scalar | null; match: boolean }[];

  /** `firstHops`: per hop size, tiles of earlier hops are left out (`ComputeTilesRequest`). */
  constructor(
    features: readonly FeatureSpec[],
    ttlMs: number,
    into: TileRecords,
    firstHops?: ReadonlyMap<number, number>,
  ) {
    this.#states = features.map((f) =>
      sequenceTiles({ ...f, aggregation: f.aggregation as SequenceKind }, ttlMs),
    );
    this.#into = into;
    this.#events = features.map(() => ({ ts: 0, id: '', value: null, match: false }));
    this.#states.forEach((ts, j) =>
      ts.forEach((t) => {
        let g = this.#byHop.find((x) => x.hopMs === t.hopMs);
        if (!g)
          this.#byHop.push(
            (g = {
              hopMs: t.hopMs,
              first: firstHops?.get(t.hopMs) ?? -Infinity,
              states: [],
              last: null,
            }),
          );
        g.states.push({ j, t });
      }),
    );
  }

  /**
   * Adds one event of the entity `key` to every feature's states (as `add` per feature), but
   * not to the tiles before their hop size's first hop. `row` is not kept (the caller may
   * reuse it); `key` is, in the tiles it creates: passing the previous row's array for the same
   * entity (rows in key order) saves building its id.
   */
  addRow(key: Scalar[], row: SequenceRow): void {
    if (key !== this.#key) {
      this.#key = key;
      this.#keyId = key.length === 1 ? String(key[0]) : key.map(String).join('\u0001');
    }
    const keyId = this.#keyId;
    const events = this.#events;
    for (let j = 0; j < events.length; j++) {
      const e = events[j]!;
      e.ts = row.ts;
      e.id = row.id;
      e.value = row.values[j]!;
      e.match = row.matches[j]!;
    }
    for (const g of this.#byHop) {
      const hop = hopIndex(row.ts, g.hopMs);
      if (hop < g.first) continue;
      let rec: TileRecord | undefined;
      if (g.last !== null && g.last.hop === hop && g.last.keyId === keyId) rec = g.last.rec;
      else {
        const rid = `${keyId}\u0000${g.hopMs}\u0000${hop}`;
        rec = this.#into.get(rid);
        if (!rec) this.#into.set(rid, (rec = { key, hopMs: g.hopMs, hop, states: {} }));
        g.last = { keyId, hop, rec };
      }
      const s = rec.states;
      for (const { j, t } of g.states)
        s[t.key] = t.addOwned(Object.hasOwn(s, t.key) ? s[t.key] : t.init(), events[j]!);
    }
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
      s[t.key] = t.addOwned(Object.hasOwn(s, t.key) ? s[t.key] : t.init(), event);
    }
  }
}

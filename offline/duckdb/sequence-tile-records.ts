/**
 * `computeTiles` (materialization) of sequence features on DuckDB: the pass's events of
 * `[start, end)` with each feature's `where` flag and compared field, ordered by entity key,
 * folded with the aggregation library's sequence states (`aggregation/sequence-tiles.ts`) —
 * the very states the stream worker and push build, so a materialized entity reads as a
 * streamed one. Tiles are returned in memory, to be combined with the view's SQL tiles of the
 * same hops (a tile field is written whole).
 */
import { hopIndex, sequenceTiles, type SequenceTile } from '../../aggregation/index.ts';
import type { SequenceKind } from '../../core/sequence.ts';
import type { Scalar } from '../../core/types.ts';
import type { FeatureSpec } from '../../definitions/spec.ts';
import type { Pass } from '../export/pass.ts';
import type { DuckDBClient } from '../local/duckdb-client.ts';
import type { TileRecord } from '../offline-store.ts';
import { eventsSql } from './sql/feature-pass.ts';
import { renderExpr } from './sql/render-expr.ts';

/** Tile records keyed by `key \0 hopMs \0 hop`. */
export type TileRecords = Map<string, TileRecord>;

export const tileRecordId = (key: readonly unknown[], hopMs: number, hop: number): string =>
  `${key.map(String).join('\u0001')}\u0000${hopMs}\u0000${hop}`;

/** Folds the sequence features' events of `[start, end)` into `into`. */
export async function addSequenceTileRecords(
  client: DuckDBClient,
  pass: Pass,
  features: readonly FeatureSpec[],
  ttlMs: number,
  start: number,
  end: number,
  into: TileRecords,
): Promise<void> {
  const extra = features.flatMap((f, j) => [
    `CAST(${f.where ? `(${renderExpr(pass.schema, f.where)}) IS TRUE` : 'TRUE'} AS INTEGER) AS __m${j}`,
    `${f.input ? renderExpr(pass.schema, f.input) : 'NULL'} AS __v${j}`,
  ]);
  const states: SequenceTile[][] = features.map((f) =>
    sequenceTiles({ ...f, aggregation: f.aggregation as SequenceKind }, ttlMs),
  );
  const nk = pass.keys.length;
  const sql = `SELECT * FROM (${eventsSql(pass, extra, null)}) WHERE __ts >= ${start} AND __ts < ${end}`;
  for await (const chunk of client.stream(sql)) {
    for (let r = 0; r < chunk.size; r++) {
      const key = Array.from({ length: nk }, (_, i) => chunk.columns[i]![r]) as Scalar[];
      const ts = Number(chunk.columns[nk]![r]);
      const id = String(chunk.columns[nk + 1]![r]);
      features.forEach((_, j) => {
        const raw = chunk.columns[nk + 2 + 2 * j + 1]![r];
        const value =
          raw === null || raw === undefined
            ? null
            : typeof raw === 'bigint'
              ? Number(raw)
              : (raw as Scalar);
        const event = { ts, id, value, match: Number(chunk.columns[nk + 2 + 2 * j]![r]) === 1 };
        for (const t of states[j]!) {
          const hop = hopIndex(ts, t.hopMs);
          const rid = tileRecordId(key, t.hopMs, hop);
          let rec = into.get(rid);
          if (!rec) into.set(rid, (rec = { key, hopMs: t.hopMs, hop, states: {} }));
          const s = rec.states;
          s[t.key] = t.add(Object.hasOwn(s, t.key) ? s[t.key] : t.init(), event);
        }
      });
    }
  }
}

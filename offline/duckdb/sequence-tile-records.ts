/**
 * `computeTiles` (materialization) of sequence features on DuckDB: the pass's events of
 * `[start, end)` with each feature's `where` flag and compared field, streamed from DuckDB and
 * folded by `offline/sequence-tile-fold.ts` (the aggregation library's sequence states).
 */
import type { Scalar } from '../../core/types.ts';
import type { FeatureSpec } from '../../definitions/spec.ts';
import type { Pass } from '../export/pass.ts';
import type { DuckDBClient } from '../local/duckdb-client.ts';
import { SequenceTileFolder, type TileRecords } from '../sequence-tile-fold.ts';
import { eventsSql } from './sql/feature-pass.ts';
import { renderExpr } from './sql/render-expr.ts';

export { tileRecordId, type TileRecords } from '../sequence-tile-fold.ts';

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
  const folder = new SequenceTileFolder(features, ttlMs, into);
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
        folder.add(j, key, {
          ts,
          id,
          value,
          match: Number(chunk.columns[nk + 2 + 2 * j]![r]) === 1,
        });
      });
    }
  }
}

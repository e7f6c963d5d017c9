/**
 * The materialization side of `count_distinct` and `last_n`: SQL engines (DuckDB, BigQuery)
 * return a tile's non-null inputs as JSON (`["p1","p2"]`, or `[{ts, id, v}, ...]` for last_n),
 * and this folds them through the aggregation library, so a materialized tile is exactly the
 * state the stream worker would have built (same string keys, same order, same bound).
 */
import { aggregator } from '../aggregation/index.ts';
import { tileKind } from '../aggregation/tile-kind.ts';
import type { FeatureSpec } from '../definitions/spec.ts';
import type { Scalar } from '../core/types.ts';

/** One last_n input as SQL returns it. */
interface Occurrence {
  ts: number | string;
  id: string;
  v: Scalar;
}

/** The library state of `values` (null: no input in the tile). */
export function foldListState(f: FeatureSpec, values: unknown[] | null): unknown {
  const agg = aggregator(tileKind(f, 'materialize'), f);
  let s = agg.init();
  for (const x of values ?? []) {
    if (f.aggregation === 'last_n') {
      const o = x as Occurrence;
      // INT64 values may arrive as JSON strings (BigQuery's TO_JSON_STRING of big integers).
      const v = f.type === 'string_list' ? o.v : Number(o.v);
      s = agg.add(s, v, Number(o.ts), String(o.id), 1);
    } else s = agg.add(s, x as Scalar, 0, '', 1);
  }
  return s;
}

/**
 * A pass: the features of the views that share a source, keys and filter (e.g.
 * product_engagement and product_catalog), computed together by one scan of their events.
 * Every export engine (sweep, DuckDB SQL, BigQuery) and `computeTiles` work pass by pass.
 */
import type { ExprNode } from '../../definitions/expr/expr.ts';
import type { RecordType } from '../../definitions/record-schema.ts';
import type { BatchSourceSpec, FeatureSpec, FeatureViewSpec } from '../../definitions/spec.ts';

export interface PassFeature {
  /** Column alias in the pass result. */
  col: string;
  view: FeatureViewSpec;
  feature: FeatureSpec;
}

/** Where a pass reads a batch source from: {@link Pass.srcTable} and {@link Pass.fingerprint}. */
export interface PassSource {
  table: string;
  fingerprint?: string;
}

export interface Pass {
  schema: RecordType;
  /**
   * The relation the engine reads the source from: a local temp table (`__reason` null = good
   * record) for DuckDB, a table reference for BigQuery.
   */
  srcTable: string;
  timestampField: string;
  idField: string;
  /** Join key → expression, in the order of the view's entities. */
  keys: { joinKey: string; expr: ExprNode }[];
  filter: ExprNode | null;
  features: PassFeature[];
  /** Identifies the source data (files, sizes, mtimes) for caches; absent = never cached. */
  fingerprint?: string;
}

/** A pass's windowed features grouped by hop size (tiles are per hop size), first seen first. */
export function featuresByHop(pass: Pass): [number, PassFeature[]][] {
  const groups = new Map<number, PassFeature[]>();
  for (const pf of pass.features) {
    const h = pf.feature.hopMs;
    if (h === null) continue;
    if (!groups.has(h)) groups.set(h, []);
    groups.get(h)!.push(pf);
  }
  return [...groups];
}

/** Groups the features of several views into passes by (source, keys, filter). */
export function passKey(view: FeatureViewSpec, joinKeys: string[]): string {
  return JSON.stringify({
    s: view.source,
    k: joinKeys.map((k) => [k, view.keys[k]]),
    f: view.filter,
  });
}

/** One view's features as a pass (`computeTiles`): columns `__f0, __f1, …` in feature order. */
export function viewPass(
  view: FeatureViewSpec,
  joinKeys: readonly string[],
  source: BatchSourceSpec,
  srcTable: string,
): Pass {
  return {
    schema: source.schema,
    srcTable,
    timestampField: source.timestampField,
    idField: source.idField,
    keys: joinKeys.map((k) => ({ joinKey: k, expr: view.keys[k]! })),
    filter: view.filter,
    features: view.features.map((f, i) => ({ col: `__f${i}`, view, feature: f })),
  };
}

/**
 * SQL for materialization: per (entity key, hop size, hop index) the partial state of every
 * windowed feature with that hop size, and per entity key the lifetime `last` states as of
 * `end`, each encoded as the aggregation library's JSON state (`to_json` in SQL, JSON.parse here).
 */
import type { FeatureSpec } from '../../../definitions/spec.ts';
import { ident } from '../../local/duckdb-client.ts';
import { featuresByHop, type Pass } from '../../export/pass.ts';
import { renderExpr } from './render-expr.ts';
import { hopIndexSql } from './hops-sql.ts';
import { boundedInput, boundedNumber } from '../../sql/bounded-input.ts';
import { splitArrayPath, exprPaths, type ExprNode } from '../../../definitions/expr/expr.ts';
import { foldListState } from '../../fold-list-state.ts';

export interface TilesQuery {
  /** null for the lifetime query. */
  hopMs: number | null;
  features: FeatureSpec[];
  sql: string;
  decode: (f: FeatureSpec, v: unknown) => unknown;
}

const decode = (f: FeatureSpec, v: unknown): unknown => {
  if (f.aggregation === 'count_distinct' || f.aggregation === 'last_n')
    return foldListState(f, v === null || v === undefined ? null : JSON.parse(String(v)));
  if (f.aggregation === 'count' || f.aggregation === 'sum') return v === null ? 0 : Number(v);
  if (f.aggregation === 'min' || f.aggregation === 'max') return v ?? null;
  if (v === null || v === undefined)
    return f.aggregation === 'mode' ? {} : f.aggregation === 'avg' ? { sum: 0, count: 0 } : null;
  return JSON.parse(String(v));
};

const arrayOf = (node: ExprNode | null): string | null => {
  for (const p of node ? exprPaths(node) : []) {
    const s = splitArrayPath(p);
    if (s) return s.array;
  }
  return null;
};

export function tilesSql(pass: Pass, start: number, end: number): TilesQuery[] {
  const schema = pass.schema;
  const keys = pass.keys.map((_, i) => `__k${i}`);
  const keyExprs = pass.keys.map((k, i) => `${renderExpr(schema, k.expr)} AS __k${i}`);
  const conds = [
    '__reason IS NULL',
    ...pass.keys.map((k) => `${renderExpr(schema, k.expr)} IS NOT NULL`),
  ];
  if (pass.filter) conds.push(`${renderExpr(schema, pass.filter)} IS TRUE`);
  const ts = ident(pass.timestampField);
  const id = `CAST(${ident(pass.idField)} AS VARCHAR)`;
  const out: TilesQuery[] = [];
  for (const [h, feats] of featuresByHop(pass)) {
    const hop = hopIndexSql(ts, h);
    const parts: string[] = [];
    feats.forEach((pf, j) => {
      const f = pf.feature;
      const where = f.where ? `${renderExpr(schema, f.where)} IS TRUE` : 'TRUE';
      const unnest = f.aggregation === 'mode' ? (arrayOf(f.input) ?? arrayOf(f.weight)) : null;
      const opts = unnest ? { unnested: { [unnest]: '__item' } } : {};
      const input = f.input
        ? boundedInput(schema, f.input, renderExpr(schema, f.input, opts), 'DOUBLE')
        : 'NULL';
      const x = `CASE WHEN ${where} THEN ${input} END`;
      let agg: string;
      let from = `(SELECT *, ${keyExprs.join(', ')}, ${hop} AS __hop FROM ${pass.srcTable} WHERE ${conds.join(' AND ')} AND ${ts} >= ${start} AND ${ts} < ${end})`;
      switch (f.aggregation) {
        case 'count':
          agg = `count(CASE WHEN ${where} THEN 1 END)`;
          break;
        case 'sum':
          agg = `COALESCE(sum(${x}), 0)`;
          break;
        case 'avg':
          agg = `to_json(struct_pack(sum := COALESCE(sum(${x}), 0)::DOUBLE, count := count(${x})))::VARCHAR`;
          break;
        case 'min':
        case 'max':
          agg = `${f.aggregation}(${x})`;
          break;
        case 'last':
          agg = `to_json(max(CASE WHEN (${x}) IS NOT NULL THEN struct_pack(ts := ${ts}, id := ${id}, v := ${x}) END))::VARCHAR`;
          break;
        case 'count_distinct':
          // The distinct values; `decode` folds them into the library's state.
          agg = `to_json(list(DISTINCT ${x}) FILTER (WHERE (${x}) IS NOT NULL))::VARCHAR`;
          break;
        case 'last_n': {
          // Newest first; without `distinct` only the first n can matter. `decode` folds them.
          const all = `list(struct_pack(ts := ${ts}, id := ${id}, v := ${x}) ORDER BY ${ts} DESC, ${id} DESC, ${x} DESC) FILTER (WHERE (${x}) IS NOT NULL)`;
          agg = `to_json(${f.distinct ? all : `list_slice(${all}, 1, ${f.n ?? 0})`})::VARCHAR`;
          break;
        }
        default: {
          const weight = f.weight
            ? boundedNumber(`CAST(${renderExpr(schema, f.weight, opts)} AS DOUBLE)`)
            : '1.0::DOUBLE';
          const inner = unnest
            ? `(SELECT *, UNNEST(${renderExpr(schema, { op: 'col', path: unnest })}) AS __item FROM ${from})`
            : from;
          from = `(SELECT ${keys.join(', ')}, __hop, __v, sum(__w) AS __w FROM (SELECT ${keys.join(', ')}, __hop, ${x} AS __v, ${weight} AS __w FROM ${inner}) WHERE __v IS NOT NULL AND __w IS NOT NULL GROUP BY ALL)`;
          agg = `to_json(map_from_entries(list(struct_pack(k := __v, v := __w))))::VARCHAR`;
        }
      }
      parts.push(`(SELECT ${keys.join(', ')}, __hop, ${agg} AS s${j} FROM ${from} GROUP BY ALL)`);
    });
    const sql =
      parts.length === 1
        ? `SELECT * FROM ${parts[0]}`
        : `SELECT * FROM ${parts.map((p, j) => `${p} t${j}`).join(' NATURAL FULL OUTER JOIN ')}`;
    out.push({
      hopMs: h,
      features: feats.map((pf) => pf.feature),
      sql: `SELECT ${keys.join(', ')}, __hop, ${feats.map((_, j) => `s${j}`).join(', ')} FROM (${sql})`,
      decode,
    });
  }
  const lifetime = pass.features.filter((pf) => pf.feature.windowMs === null);
  if (lifetime.length > 0) {
    const ttl = lifetime[0]!.view.ttlMs;
    const aggs = lifetime.map((pf, j) => {
      const f = pf.feature;
      const where = f.where ? `${renderExpr(schema, f.where)} IS TRUE` : 'TRUE';
      const input = boundedInput(
        schema,
        f.input as ExprNode,
        renderExpr(schema, f.input as ExprNode),
        'DOUBLE',
      );
      return `to_json(max(CASE WHEN ${where} AND (${input}) IS NOT NULL AND ${end} - 1 - ${ts} <= ${ttl} THEN struct_pack(ts := ${ts}, id := ${id}, v := ${input}) END))::VARCHAR AS s${j}`;
    });
    const sql = `SELECT ${keys.join(', ')}, ${aggs.join(', ')} FROM (SELECT *, ${keyExprs.join(', ')} FROM ${pass.srcTable} WHERE ${conds.join(' AND ')} AND ${ts} < ${end}) GROUP BY ALL HAVING ${lifetime.map((_, j) => `s${j} IS NOT NULL`).join(' OR ')}`;
    out.push({ hopMs: null, features: lifetime.map((pf) => pf.feature), sql, decode });
  }
  return out;
}

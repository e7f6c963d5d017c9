/**
 * Point-in-time feature values for every entity row, one SQL statement per "pass": the views
 * that share a source, keys and filter (e.g. product_engagement and product_catalog).
 *
 * Events and entity rows go into one stream, partitioned by the entity key and ordered by time.
 * For an entity row at `t` (ordered with the events at the same ms, which count):
 * - windowed count/sum/avg/min/max/last: a window aggregate whose RANGE frame starts at
 *   `windowStart(t) = (floor(t/H) - W/H + 1) * H`, i.e. `t - ((t mod H) + W - H)` (in the
 *   doubled order key {@link ORDER_KEY}: `2·((t mod H) + W - H) + 1`) PRECEDING —
 *   DuckDB evaluates these with segment trees, no join and no subtraction of running sums;
 * - lifetime last: the last non-null `{ts, id, v}` struct up to `t` in (ts, entity rows after
 *   events, struct) order, i.e. the max (ties: greatest id, then value), null when `t - ts > TTL`;
 * - mode: see {@link modeSql}: per-hop tiles of weights joined by hop range, plus the raw events
 *   of the current partial hop;
 * - count_distinct: `count(DISTINCT x)` over the window frame;
 * - last_n: the frame's `{ts, id, v}` structs as a list, newest first (ts, id, then value
 *   descending: DuckDB compares VARCHAR byte-wise, i.e. by code point), then with `distinct`
 *   each value's first (newest) occurrence, then the first n values.
 */
import { splitArrayPath, exprPaths, type ExprNode } from '../../../definitions/expr/expr.ts';
import { inferExprType } from '../../../definitions/expr/expr-type.ts';
import { LarderError } from '../../../core/errors.ts';
import type { FeatureSpec, FeatureViewSpec } from '../../../definitions/spec.ts';
import { ident } from '../../local/duckdb-client.ts';
import { sqlValueType } from '../../local/column-types.ts';
import { renderExpr } from './render-expr.ts';
import { hopIndexSql, hopStartSql } from './hops-sql.ts';
import { boundedInput, boundedNumber } from '../../sql/bounded-input.ts';
import type { Pass, PassFeature } from '../../export/pass.ts';
import { isSequenceKind } from '../../../core/sequence.ts';
import { sequenceCtes, type SequenceSqlDialect } from '../../sql/sequence-sql.ts';

export const arrayOf = (node: ExprNode | null): string | null => {
  if (!node) return null;
  for (const p of exprPaths(node)) {
    const s = splitArrayPath(p);
    if (s) return s.array;
  }
  return null;
};

/** `floor(ts / H) * H` for any integer ts. */

function keyCols(pass: Pass): string[] {
  return pass.keys.map((_, i) => `__k${i}`);
}

/** The events of a pass: keys, ts, id, and the filter applied (null keys never match). */
export function eventsSql(pass: Pass, extra: string[], unnest: string | null): string {
  const keys = pass.keys.map((k, i) => `${renderExpr(pass.schema, k.expr)} AS __k${i}`);
  const conds = [
    '__reason IS NULL',
    ...pass.keys.map((k) => `${renderExpr(pass.schema, k.expr)} IS NOT NULL`),
  ];
  if (pass.filter) conds.push(`${renderExpr(pass.schema, pass.filter)} IS TRUE`);
  const base = [
    ...keys,
    `${ident(pass.timestampField)} AS __ts`,
    `CAST(${ident(pass.idField)} AS VARCHAR) AS __id`,
  ];
  if (unnest)
    base.push(`UNNEST(${renderExpr(pass.schema, { op: 'col', path: unnest })}) AS __item`);
  return `SELECT ${[...base, ...extra].join(', ')} FROM ${pass.srcTable} WHERE ${conds.join(' AND ')}`;
}

function checkInput(view: FeatureViewSpec, f: FeatureSpec): void {
  if (f.aggregation !== 'mode' && (arrayOf(f.input) || arrayOf(f.where))) {
    throw new LarderError(
      'LARDER_DEFINITION_INVALID',
      `${view.name}:${f.name}: array paths are only supported as mode inputs and weights by the DuckDB offline store`,
    );
  }
}

/**
 * The one sort key of a pass: `2·ts + 1` for entity rows, `2·ts` for events, so an entity row
 * sorts after the events of its millisecond and a RANGE frame `[t - off, t]` in ms becomes
 * `2·off + 1` PRECEDING. A single BIGINT key (instead of `ORDER BY __ts, __row`) lets every
 * windowed aggregate share one sort, and sorts ~2.5× faster than the two-column key at 10M rows.
 */
const ORDER_KEY = `__ts * 2 + CASE WHEN __row THEN 1 ELSE 0 END`;

/**
 * SQL creating `<table>(__rid, <feature cols>)` with one row per entity row of `ent` whose
 * keys are all non-null (others get the empty-window values from the caller's LEFT JOIN).
 */
export function windowPassSql(pass: Pass, table: string, entTable: string): string | null {
  const feats = pass.features.filter(
    (f) => f.feature.aggregation !== 'mode' && !isSequenceKind(f.feature.aggregation),
  );
  if (feats.length === 0) return null;
  const schema = pass.schema;
  const inputs: string[] = [];
  const outputs: string[] = [];
  const offsets = new Map<string, string>();
  for (const pf of feats) {
    const f = pf.feature;
    checkInput(pf.view, f);
    const where = f.where ? `${renderExpr(schema, f.where)} IS TRUE` : 'TRUE';
    const input = f.input
      ? boundedInput(schema, f.input, renderExpr(schema, f.input), 'DOUBLE')
      : null;
    const c = ident(`in_${pf.col}`);
    switch (f.aggregation) {
      case 'count':
        inputs.push(`CASE WHEN ${where} THEN 1 END AS ${c}`);
        break;
      case 'last':
      case 'last_n':
        inputs.push(
          `CASE WHEN ${where} AND (${input}) IS NOT NULL THEN struct_pack(ts := ${ident(pass.timestampField)}, id := CAST(${ident(pass.idField)} AS VARCHAR), v := ${input}) END AS ${c}`,
        );
        break;
      default:
        inputs.push(`CASE WHEN ${where} THEN ${input} END AS ${c}`);
    }
    let frame: string;
    if (f.windowMs === null || f.hopMs === null) {
      frame = 'RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW';
    } else {
      const off = `__off_${f.windowMs}_${f.hopMs}`;
      offsets.set(
        off,
        `CASE WHEN __row THEN 2 * ((((__ts % ${f.hopMs}) + ${f.hopMs}) % ${f.hopMs}) + ${f.windowMs - f.hopMs}) + 1 ELSE 0 END AS ${off}`,
      );
      frame = `RANGE BETWEEN ${off} PRECEDING AND CURRENT ROW`;
    }
    const over = `OVER (PARTITION BY ${keyCols(pass).join(', ')} ORDER BY __o ${frame})`;
    const type = sqlValueType(f.type);
    let out: string;
    switch (f.aggregation) {
      case 'count':
        out = `count(${c}) ${over}`;
        break;
      case 'sum':
        out = `CAST(COALESCE(sum(${c}) ${over}, 0) AS ${type})`;
        break;
      case 'avg':
        out = `CAST(avg(${c}) ${over} AS DOUBLE)`;
        break;
      case 'min':
      case 'max':
        out = `CAST(${f.aggregation}(${c}) ${over} AS ${type})`;
        break;
      case 'count_distinct':
        out = `count(DISTINCT ${c}) ${over}`;
        break;
      case 'last_n':
        // The frame's structs, newest first; `finals` keeps the values (see lastNValues).
        out = `list(${c} ORDER BY ${c}.ts DESC, ${c}.id DESC, ${c}.v DESC) FILTER (WHERE ${c} IS NOT NULL) ${over}`;
        break;
      default: // last
        // Lifetime: the last non-null {ts, id, v} in (ts, entity rows after events, struct)
        // order — one sort, streamed; a max() over an unbounded RANGE frame is ~4× slower.
        out =
          f.windowMs === null
            ? `last_value(${c} IGNORE NULLS) OVER (PARTITION BY ${keyCols(pass).join(', ')} ORDER BY __o, ${c} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)`
            : `(max(${c}) ${over}).v`;
    }
    outputs.push(`${out} AS ${ident(pf.col)}`);
  }
  const ev = eventsSql(pass, [...inputs, 'FALSE AS __row', 'NULL::BIGINT AS __rid'], null);
  const entKeys = pass.keys.map((k, i) => `CAST(${ident(k.joinKey)} AS VARCHAR) AS __k${i}`);
  const ent = `SELECT ${entKeys.join(', ')}, __t AS __ts, TRUE AS __row, __rid FROM ${entTable} WHERE ${pass.keys.map((k) => `${ident(k.joinKey)} IS NOT NULL`).join(' AND ')}`;
  const finals = feats.map((pf) => {
    const col = ident(pf.col);
    if (pf.feature.aggregation === 'last_n') return `${lastNValues(col, pf.feature)} AS ${col}`;
    if (pf.feature.windowMs !== null) return col;
    return `CASE WHEN ${col} IS NULL OR __ts - ${col}.ts > ${pf.view.ttlMs} THEN NULL ELSE CAST(${col}.v AS ${sqlValueType(pf.feature.type)}) END AS ${col}`;
  });
  return (
    `CREATE OR REPLACE TEMP TABLE ${table} AS ` +
    `SELECT __rid, ${finals.join(', ')} FROM (` +
    `SELECT __rid, __row, __ts, ${outputs.join(', ')} FROM (` +
    `SELECT *, ${ORDER_KEY} AS __o${[...offsets.values()].map((o) => `, ${o}`).join('')} FROM (${ev} UNION ALL BY NAME ${ent}))) WHERE __row`
  );
}

/**
 * `last_n`'s values from a newest-first list of `{ts, id, v}` structs: with `distinct`, each
 * value's first occurrence; then the first n (NULL stays NULL: an empty window).
 */
export function lastNValues(structs: string, f: FeatureSpec): string {
  const values = `list_transform(${structs}, x -> x.v)`;
  const kept = f.distinct
    ? `list_filter(${values}, (x, i) -> list_position(${values}, x) = i)`
    : values;
  return `list_slice(${kept}, 1, ${f.n ?? 0})`;
}

/**
 * Weighted mode of one feature for every entity row: per (key, hop, value) weight tiles over
 * the whole hops `[c - W/H + 1, c - 1]` joined by hop range, plus the raw events of the current
 * hop `c` with `ts <= t`; the value with the greatest total weight wins, ties → smallest value.
 * Null values and null weights are skipped.
 */
export function modeSql(pass: Pass, pf: PassFeature, table: string, entTable: string): string {
  const f = pf.feature;
  const h = f.hopMs as number;
  const w = f.windowMs as number;
  const schema = pass.schema;
  const unnest = arrayOf(f.input) ?? arrayOf(f.weight);
  const opts = unnest ? { unnested: { [unnest]: '__item' } } : {};
  const t = inferExprType(schema, f.input as ExprNode);
  if (!('error' in t) && t.type !== 'string')
    throw new LarderError(
      'LARDER_DEFINITION_INVALID',
      `${pf.view.name}:${f.name}: mode needs a string input`,
    );
  const value = renderExpr(schema, f.input as ExprNode, opts);
  const weight = f.weight
    ? boundedNumber(`CAST(${renderExpr(schema, f.weight, opts)} AS DOUBLE)`)
    : '1.0::DOUBLE';
  const where = f.where ? `${renderExpr(schema, f.where)} IS TRUE` : 'TRUE';
  // Without an unnested array the value and weight are computed next to the filter (the
  // events subquery only carries keys, ts and id); with one they read its `__item` column.
  const ev = unnest
    ? eventsSql(pass, [`${where} AS __where`], unnest)
    : eventsSql(pass, [`${where} AS __where`, `${value} AS __v`, `${weight} AS __w`], null);
  const keys = keyCols(pass);
  const vw = unnest ? `${value} AS __v, ${weight} AS __w` : '__v, __w';
  const mev = `SELECT ${keys.join(', ')}, __ts, ${hopIndexSql('__ts', h)} AS __hop, ${vw} FROM (${ev}) WHERE __where`;
  const entKeys = pass.keys.map((k, i) => `CAST(${ident(k.joinKey)} AS VARCHAR) AS __k${i}`);
  const on = (a: string, b: string): string =>
    keys.map((k) => `${a}.${k} = ${b}.${k}`).join(' AND ');
  return (
    `CREATE OR REPLACE TEMP TABLE ${table} AS ` +
    `WITH mev AS (SELECT * FROM (${mev}) WHERE __v IS NOT NULL AND __w IS NOT NULL), ` +
    `tiles AS (SELECT ${keys.join(', ')}, __hop, __v, sum(__w) AS __w FROM mev GROUP BY ALL), ` +
    `rows AS (SELECT __rid, ${entKeys.join(', ')}, __t, ${hopIndexSql('__t', h)} AS __c FROM ${entTable} WHERE ${pass.keys.map((k) => `${ident(k.joinKey)} IS NOT NULL`).join(' AND ')}), ` +
    `parts AS (SELECT r.__rid, tl.__v, tl.__w FROM rows r JOIN tiles tl ON ${on('r', 'tl')} AND tl.__hop >= r.__c - ${w / h - 1} AND tl.__hop < r.__c ` +
    `UNION ALL SELECT r.__rid, m.__v, m.__w FROM rows r JOIN mev m ON ${on('r', 'm')} AND m.__hop = r.__c AND m.__ts <= r.__t), ` +
    `totals AS (SELECT __rid, __v, sum(__w) AS __w FROM parts GROUP BY ALL) ` +
    `SELECT __rid, first(__v ORDER BY __w DESC, __v ASC) AS ${ident(pf.col)} FROM totals GROUP BY __rid`
  );
}

const DUCKDB_SEQUENCE: SequenceSqlDialect = {
  hopStart: (col, h) => `(${hopStartSql(col, h)})`,
  float: 'DOUBLE',
  nullsFirst: (x) => `${x} ASC NULLS FIRST`,
};

/**
 * A sequence feature (sessions, previous-event relations) for every entity row with non-null
 * keys: `<table>(__rid, <col>)`, computed by `offline/sql/sequence-sql.ts` over the pass's
 * events with the feature's `where` flag and compared field.
 */
export function sequenceSql(pass: Pass, pf: PassFeature, table: string, entTable: string): string {
  const f = pf.feature;
  checkInput(pf.view, f);
  const where = f.where ? `(${renderExpr(pass.schema, f.where)}) IS TRUE` : 'TRUE';
  const value = f.input ? renderExpr(pass.schema, f.input) : 'NULL';
  const ev = eventsSql(
    pass,
    [`CASE WHEN ${where} THEN 1 ELSE 0 END AS __m`, `${value} AS __v`],
    null,
  );
  const keys = keyCols(pass);
  const entKeys = pass.keys.map((k, i) => `CAST(${ident(k.joinKey)} AS VARCHAR) AS __k${i}`);
  const rows = `SELECT __rid, ${entKeys.join(', ')}, __t FROM ${entTable} WHERE ${pass.keys.map((k) => `${ident(k.joinKey)} IS NOT NULL`).join(' AND ')}`;
  const { ctes, result } = sequenceCtes({
    dialect: DUCKDB_SEQUENCE,
    prefix: 'q',
    keys,
    events: 'q_ev',
    rows: 'q_rows',
    feature: f,
    ttlMs: pf.view.ttlMs,
  });
  return (
    `CREATE OR REPLACE TEMP TABLE ${table} AS WITH q_ev AS (${ev}), q_rows AS (${rows}), ${ctes.join(', ')} ` +
    `SELECT __rid, CAST(__val AS ${sqlValueType(f.type)}) AS ${ident(pf.col)} FROM ${result}`
  );
}

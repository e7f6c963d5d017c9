/**
 * The point-in-time plan of one pass (views sharing a source, keys and filter) in BigQuery
 * Standard SQL, as CTEs prefixed `p<i>_`. BigQuery has no RANGE frame with a per-row offset,
 * so windowed features use the tile plan the online store uses:
 * - per hop size H, tiles of `(key, hop)` partial states over the events;
 * - a row at `t` (hop `c`) merges the whole-hop tiles `c - W/H + 1 … c - 1` and the raw events
 *   of its own hop with `ts <= t` (the same merge as `evaluateTiles` over a partial tile);
 * - `mode` keeps `(key, hop, value)` weight tiles; the heaviest value wins, ties → smallest;
 * - windowed `last` keeps the newest event per tile and picks the newest with `ROW_NUMBER()`;
 * - lifetime `last`: `LAST_VALUE(STRUCT(ts, id, v) IGNORE NULLS)` over events and rows ordered
 *   by (ts, events before rows, id, v), null once `t - ts > TTL`;
 * - `count_distinct` keeps `(key, hop, value)` tiles and counts a row's distinct values;
 * - `last_n` keeps each tile's newest n events (with `distinct`, each value's newest first) and
 *   aggregates a row's newest n (distinct) values with `ARRAY_AGG(… ORDER BY ts, id, v DESC)`.
 * Result CTE `p<i>_out(__rid, <feature cols>)`, one row per entity row with non-null keys.
 */
import { exprPaths, splitArrayPath, type ExprNode } from '../../../definitions/expr/expr.ts';
import { LarderError } from '../../../core/errors.ts';
import type { FeatureSpec } from '../../../definitions/spec.ts';
import type { ValueType } from '../../../core/types.ts';
import type { Pass, PassFeature } from '../../export/pass.ts';
import { bqIdent } from './bq-sql.ts';
import { renderBqExpr } from './render-expr.ts';
import { boundedInput, boundedNumber } from '../../sql/bounded-input.ts';
import { isSequenceKind } from '../../../core/sequence.ts';
import { sequenceCtes, type SequenceSqlDialect } from '../../sql/sequence-sql.ts';

const BQ_TYPE: Record<ValueType, string> = {
  string: 'STRING',
  int64: 'INT64',
  float64: 'FLOAT64',
  bool: 'BOOL',
  string_list: 'ARRAY<STRING>',
  int64_list: 'ARRAY<INT64>',
  float64_list: 'ARRAY<FLOAT64>',
};
export const bqValueType = (t: ValueType): string => BQ_TYPE[t];

export const arrayOf = (node: ExprNode | null): string | null => {
  for (const p of node ? exprPaths(node) : []) {
    const s = splitArrayPath(p);
    if (s) return s.array;
  }
  return null;
};

/**
 * `floor(x / h)` for any INT64 column x (DIV truncates toward zero). Only plain columns as
 * arguments: the emulator drops the parentheses of a compound DIV numerator.
 */
export const hopOf = (x: string, h: number): string =>
  `(DIV(${x}, ${h}) - IF(MOD(${x}, ${h}) < 0, 1, 0))`;

export interface BqPassInput {
  pass: Pass;
  /** CTE name prefix, e.g. `p0`. */
  prefix: string;
  /** Entity rows: `(__rid INT64, <join keys> STRING, __t INT64)`. */
  entTable: string;
}

interface Ctx {
  pass: Pass;
  p: string;
  keys: string[];
  where: (f: FeatureSpec) => string;
  input: (f: FeatureSpec) => string;
}

/**
 * The pass's events with keys, `__ts`, `__id` and `extra` columns, all computed right over the
 * source (alias `s`; `__item` for an unnested array), so later CTEs read plain columns.
 */
function eventsCte(c: Ctx, unnest: string | null, extra: readonly string[]): string {
  const { pass } = c;
  const keyExprs = pass.keys.map(
    (k, i) => `CAST(${renderBqExpr(pass.schema, k.expr, S)} AS STRING) AS __k${i}`,
  );
  const conds = pass.keys.map((k) => `${renderBqExpr(pass.schema, k.expr, S)} IS NOT NULL`);
  if (pass.filter) conds.push(`(${renderBqExpr(pass.schema, pass.filter, S)}) IS TRUE`);
  const from = unnest
    ? `${pass.srcTable} AS s, UNNEST(${renderBqExpr(pass.schema, { op: 'col', path: unnest }, S)}) AS __item`
    : `${pass.srcTable} AS s`;
  return `SELECT ${keyExprs.join(', ')}, s.${bqIdent(pass.timestampField)} AS __ts, CAST(s.${bqIdent(pass.idField)} AS STRING) AS __id${extra.map((e) => `, ${e}`).join('')} FROM ${from}${conds.length ? ` WHERE ${conds.join(' AND ')}` : ''}`;
}

/** Expressions read the source columns through the alias `s`. */
export const S = { table: 's' } as const;

const on = (a: string, b: string, keys: string[]): string =>
  keys.map((k) => `${a}.${k} = ${b}.${k}`).join(' AND ');

/** Windowed non-mode features of one hop size: CTE `<p>_h<H>(__rid, cols)`. */
function hopGroupCtes(c: Ctx, h: number, feats: PassFeature[]): string[] {
  const { p, keys } = c;
  const maxHops = Math.max(...feats.map((pf) => (pf.feature.windowMs as number) / h));
  const tileCols: string[] = [];
  const rawCols: string[] = [];
  const partCols = (r: string, tl: string): string[] =>
    feats.flatMap((pf, j) => {
      const w = (pf.feature.windowMs as number) / h;
      const inWin = `${tl}.__hop >= ${r}.__c - ${w - 1}`;
      const cols = pf.feature.aggregation === 'avg' ? [`s${j}`, `n${j}`] : [`a${j}`];
      return cols.map((col) => `IF(${inWin}, ${tl}.${col}, NULL) AS ${col}`);
    });
  const merged: string[] = [];
  feats.forEach((pf, j) => {
    const f = pf.feature;
    const where = c.where(f);
    const x = f.aggregation === 'count' ? 'NULL' : c.input(f);
    const col = bqIdent(pf.col);
    switch (f.aggregation) {
      case 'count':
        tileCols.push(`COUNTIF(${where}) AS a${j}`);
        rawCols.push(`IF(${where}, 1, 0) AS a${j}`);
        merged.push(`COALESCE(SUM(a${j}), 0) AS ${col}`);
        break;
      case 'sum':
        tileCols.push(`SUM(IF(${where}, ${x}, NULL)) AS a${j}`);
        rawCols.push(`IF(${where}, ${x}, NULL) AS a${j}`);
        merged.push(`CAST(COALESCE(SUM(a${j}), 0) AS ${bqValueType(f.type)}) AS ${col}`);
        break;
      case 'avg':
        tileCols.push(
          `SUM(IF(${where}, CAST(${x} AS FLOAT64), NULL)) AS s${j}`,
          `COUNTIF(${where} AND ${x} IS NOT NULL) AS n${j}`,
        );
        rawCols.push(
          `IF(${where}, CAST(${x} AS FLOAT64), NULL) AS s${j}`,
          `IF(${where} AND ${x} IS NOT NULL, 1, 0) AS n${j}`,
        );
        merged.push(`IF(SUM(n${j}) > 0, SUM(s${j}) / SUM(n${j}), NULL) AS ${col}`);
        break;
      case 'min':
      case 'max': {
        const fn = f.aggregation.toUpperCase();
        tileCols.push(`${fn}(IF(${where}, ${x}, NULL)) AS a${j}`);
        rawCols.push(`IF(${where}, ${x}, NULL) AS a${j}`);
        merged.push(`${fn}(a${j}) AS ${col}`);
        break;
      }
      default:
        throw new Error('windowed last is planned by lastCtes');
    }
  });
  const k = keys.join(', ');
  const ev = `${p}_ev_${h}`;
  const names = feats.flatMap((pf, j) =>
    pf.feature.aggregation === 'avg' ? [`s${j}`, `n${j}`] : [`a${j}`],
  );
  return [
    `${ev} AS (SELECT *, ${hopOf('__ts', h)} AS __hop FROM ${p}_ev)`,
    `${p}_raw_${h} AS (SELECT ${k}, __hop, __ts, ${rawCols.join(', ')} FROM ${ev})`,
    `${p}_tiles_${h} AS (SELECT ${k}, __hop, ${tileCols.join(', ')} FROM ${ev} GROUP BY ${k}, __hop)`,
    `${p}_rows_${h} AS (SELECT *, ${hopOf('__t', h)} AS __c FROM ${p}_rows)`,
    `${p}_parts_${h} AS (` +
      `SELECT r.__rid, ${partCols('r', 'tl').join(', ')} FROM ${p}_rows_${h} r JOIN ${p}_tiles_${h} tl ON ${on('r', 'tl', keys)} AND tl.__hop BETWEEN r.__c - ${maxHops - 1} AND r.__c - 1 ` +
      `UNION ALL SELECT r.__rid, ${names.map((n) => `e.${n}`).join(', ')} FROM ${p}_rows_${h} r JOIN ${p}_raw_${h} e ON ${on('r', 'e', keys)} AND e.__hop = r.__c AND e.__ts <= r.__t)`,
    `${p}_h${h} AS (SELECT __rid, ${merged.join(', ')} FROM ${p}_parts_${h} GROUP BY __rid)`,
  ];
}

/**
 * Windowed `last` of one feature: CTE `<p>_w<j>(__rid, col)`. The newest valid event per
 * `(key, hop)` tile, then the newest of a row's tiles and current-hop events, both picked with
 * `ROW_NUMBER()` over (ts, id, v) descending.
 */
function lastCtes(c: Ctx, pf: PassFeature, j: number): string[] {
  const f = pf.feature;
  const { p, keys } = c;
  const h = f.hopMs as number;
  const w = (f.windowMs as number) / h;
  const k = keys.join(', ');
  const m = `${p}_w${j}`;
  const ord = 'ORDER BY __ts DESC, __id DESC, __v DESC';
  return [
    `${m}_ev AS (SELECT ${k}, __ts, __id, ${hopOf('__ts', h)} AS __hop, ${c.input(f)} AS __v FROM ${p}_ev WHERE ${c.where(f)} AND ${c.input(f)} IS NOT NULL)`,
    `${m}_tiles AS (SELECT * EXCEPT (__n) FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY ${k}, __hop ${ord}) AS __n FROM ${m}_ev) WHERE __n = 1)`,
    `${m}_rows AS (SELECT *, ${hopOf('__t', h)} AS __c FROM ${p}_rows)`,
    `${m}_parts AS (SELECT r.__rid, tl.__ts, tl.__id, tl.__v FROM ${m}_rows r JOIN ${m}_tiles tl ON ${on('r', 'tl', keys)} AND tl.__hop BETWEEN r.__c - ${w - 1} AND r.__c - 1 ` +
      `UNION ALL SELECT r.__rid, e.__ts, e.__id, e.__v FROM ${m}_rows r JOIN ${m}_ev e ON ${on('r', 'e', keys)} AND e.__hop = r.__c AND e.__ts <= r.__t)`,
    `${m} AS (SELECT __rid, __v AS ${bqIdent(pf.col)} FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY __rid ${ord}) AS __n FROM ${m}_parts) WHERE __n = 1)`,
  ];
}

/** `count_distinct` of one feature: CTE `<p>_d<j>(__rid, col)` from `(key, hop, value)` tiles. */
function countDistinctCtes(c: Ctx, pf: PassFeature, j: number): string[] {
  const f = pf.feature;
  const { p, keys } = c;
  const h = f.hopMs as number;
  const w = (f.windowMs as number) / h;
  const k = keys.join(', ');
  const m = `${p}_d${j}`;
  return [
    `${m}_ev AS (SELECT ${k}, __ts, ${hopOf('__ts', h)} AS __hop, ${c.input(f)} AS __v FROM ${p}_ev WHERE ${c.where(f)} AND ${c.input(f)} IS NOT NULL)`,
    `${m}_tiles AS (SELECT DISTINCT ${k}, __hop, __v FROM ${m}_ev)`,
    `${m}_rows AS (SELECT *, ${hopOf('__t', h)} AS __c FROM ${p}_rows)`,
    `${m}_parts AS (SELECT r.__rid, tl.__v FROM ${m}_rows r JOIN ${m}_tiles tl ON ${on('r', 'tl', keys)} AND tl.__hop BETWEEN r.__c - ${w - 1} AND r.__c - 1 ` +
      `UNION ALL SELECT r.__rid, e.__v FROM ${m}_rows r JOIN ${m}_ev e ON ${on('r', 'e', keys)} AND e.__hop = r.__c AND e.__ts <= r.__t)`,
    `${m} AS (SELECT __rid, COUNT(DISTINCT __v) AS ${bqIdent(pf.col)} FROM ${m}_parts GROUP BY __rid)`,
  ];
}

/**
 * `last_n` of one feature: CTE `<p>_n<j>(__rid, col)`. Per `(key, hop)` tile the newest n
 * events (with `distinct`, of each value's newest one), then per row the newest n of its tiles'
 * and current-hop events (again each value once with `distinct`), newest first.
 */
function lastNCtes(c: Ctx, pf: PassFeature, j: number): string[] {
  const f = pf.feature;
  const { p, keys } = c;
  const h = f.hopMs as number;
  const w = (f.windowMs as number) / h;
  const n = f.n ?? 0;
  const k = keys.join(', ');
  const m = `${p}_n${j}`;
  const ord = 'ORDER BY __ts DESC, __id DESC, __v DESC';
  /** Keeps each value's newest row per `by` when distinct. */
  const dedupe = (from: string, by: string): string =>
    f.distinct
      ? `(SELECT * EXCEPT (__d) FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY ${by}, __v ${ord}) AS __d FROM ${from}) WHERE __d = 1)`
      : from;
  return [
    `${m}_ev AS (SELECT ${k}, __ts, __id, ${hopOf('__ts', h)} AS __hop, ${c.input(f)} AS __v FROM ${p}_ev WHERE ${c.where(f)} AND ${c.input(f)} IS NOT NULL)`,
    `${m}_tiles AS (SELECT * EXCEPT (__n) FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY ${k}, __hop ${ord}) AS __n FROM ${dedupe(`${m}_ev`, `${k}, __hop`)}) WHERE __n <= ${n})`,
    `${m}_rows AS (SELECT *, ${hopOf('__t', h)} AS __c FROM ${p}_rows)`,
    `${m}_parts AS (SELECT r.__rid, tl.__ts, tl.__id, tl.__v FROM ${m}_rows r JOIN ${m}_tiles tl ON ${on('r', 'tl', keys)} AND tl.__hop BETWEEN r.__c - ${w - 1} AND r.__c - 1 ` +
      `UNION ALL SELECT r.__rid, e.__ts, e.__id, e.__v FROM ${m}_rows r JOIN ${m}_ev e ON ${on('r', 'e', keys)} AND e.__hop = r.__c AND e.__ts <= r.__t)`,
    `${m} AS (SELECT __rid, ARRAY_AGG(__v ${ord} LIMIT ${n}) AS ${bqIdent(pf.col)} FROM ${dedupe(`${m}_parts`, '__rid')} GROUP BY __rid)`,
  ];
}

/** Weighted mode of one feature: CTE `<p>_m<j>(__rid, col)`. */
function modeCtes(c: Ctx, pf: PassFeature, j: number): string[] {
  const f = pf.feature;
  const { p, keys, pass } = c;
  const h = f.hopMs as number;
  const w = (f.windowMs as number) / h;
  const unnest = arrayOf(f.input) ?? arrayOf(f.weight);
  const opts = { ...S, ...(unnest ? { unnested: { [unnest]: '__item' } } : {}) };
  const value = boundedInput(
    pass.schema,
    f.input as ExprNode,
    renderBqExpr(pass.schema, f.input as ExprNode, opts),
    'FLOAT64',
  );
  const weight = f.weight
    ? boundedNumber(`CAST(${renderBqExpr(pass.schema, f.weight, opts)} AS FLOAT64)`)
    : 'CAST(1 AS FLOAT64)';
  const where = f.where ? `(${renderBqExpr(pass.schema, f.where, S)}) IS TRUE` : 'TRUE';
  const k = keys.join(', ');
  const m = `${p}_m${j}`;
  return [
    `${m}_ev AS (SELECT ${k}, __ts, ${hopOf('__ts', h)} AS __hop, __v, __w FROM (${eventsCte(c, unnest, [`${where} AS __where`, `${value} AS __v`, `${weight} AS __w`])}) WHERE __where AND __v IS NOT NULL AND __w IS NOT NULL)`,
    `${m}_tiles AS (SELECT ${k}, __hop, __v, SUM(__w) AS __w FROM ${m}_ev GROUP BY ${k}, __hop, __v)`,
    `${m}_rows AS (SELECT *, ${hopOf('__t', h)} AS __c FROM ${p}_rows)`,
    `${m}_parts AS (SELECT r.__rid, tl.__v, tl.__w FROM ${m}_rows r JOIN ${m}_tiles tl ON ${on('r', 'tl', keys)} AND tl.__hop BETWEEN r.__c - ${w - 1} AND r.__c - 1 ` +
      `UNION ALL SELECT r.__rid, e.__v, e.__w FROM ${m}_rows r JOIN ${m}_ev e ON ${on('r', 'e', keys)} AND e.__hop = r.__c AND e.__ts <= r.__t)`,
    `${m} AS (SELECT __rid, ARRAY_AGG(__v ORDER BY __w DESC, __v ASC LIMIT 1)[OFFSET(0)] AS ${bqIdent(pf.col)} FROM (SELECT __rid, __v, SUM(__w) AS __w FROM ${m}_parts GROUP BY __rid, __v) GROUP BY __rid)`,
  ];
}

/** Lifetime `last` features: CTE `<p>_life(__rid, cols)`. */
function lifetimeCtes(c: Ctx, feats: PassFeature[]): string[] {
  const { p, keys } = c;
  // Values first, structs one level up: the emulator cannot build a STRUCT around a
  // correlated subquery (a map lookup), real BigQuery does not mind either way.
  const values = feats.map(
    (pf, j) => `IF(${c.where(pf.feature)}, ${c.input(pf.feature)}, NULL) AS x${j}`,
  );
  const inputs = feats.map(
    (_, j) => `IF(x${j} IS NOT NULL, STRUCT(__ts AS ts, __id AS id, x${j} AS v), NULL) AS l${j}`,
  );
  const nulls = feats.map(
    (pf, j) =>
      `CAST(NULL AS STRUCT<ts INT64, id STRING, v ${bqValueType(pf.feature.type)}>) AS l${j}`,
  );
  const lasts = feats.map(
    (_, j) =>
      `LAST_VALUE(l${j} IGNORE NULLS) OVER (PARTITION BY ${keys.join(', ')} ORDER BY __ts, __row, l${j}.id, l${j}.v ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS l${j}`,
  );
  const finals = feats.map(
    (pf, j) =>
      `IF(l${j} IS NULL OR __ts - l${j}.ts > ${pf.view.ttlMs}, NULL, l${j}.v) AS ${bqIdent(pf.col)}`,
  );
  return [
    `${p}_life_x AS (SELECT ${keys.join(', ')}, __ts, __id, ${values.join(', ')} FROM ${p}_ev)`,
    `${p}_life_ev AS (SELECT ${keys.join(', ')}, __ts, FALSE AS __row, CAST(NULL AS INT64) AS __rid, ${inputs.join(', ')} FROM ${p}_life_x)`,
    `${p}_life AS (SELECT __rid, ${finals.join(', ')} FROM (SELECT __rid, __row, __ts, ${lasts.join(', ')} FROM (` +
      `SELECT * FROM ${p}_life_ev ` +
      `UNION ALL SELECT ${keys.join(', ')}, __t AS __ts, TRUE AS __row, __rid, ${nulls.join(', ')} FROM ${p}_rows)) WHERE __row)`,
  ];
}

const BQ_SEQUENCE: SequenceSqlDialect = {
  hopStart: (col, h) => `(${hopOf(col, h)} * ${h})`,
  float: 'FLOAT64',
  // BigQuery sorts NULL first in ascending order.
  nullsFirst: (x) => `${x} ASC`,
};

/**
 * A sequence feature (sessions, previous-event relations): CTE `<p>_q<j>_out(__rid, col)`,
 * planned by `offline/sql/sequence-sql.ts` over the pass's events with the feature's `where`
 * flag and compared field.
 */
function sequenceFeatureCtes(c: Ctx, pf: PassFeature, j: number): string[] {
  const f = pf.feature;
  const { p, keys } = c;
  const m = `${p}_q${j}`;
  const { ctes, result } = sequenceCtes({
    dialect: BQ_SEQUENCE,
    prefix: m,
    keys,
    events: `${m}_ev`,
    rows: `${p}_rows`,
    feature: f,
    ttlMs: pf.view.ttlMs,
  });
  return [
    `${m}_ev AS (SELECT ${keys.join(', ')}, __ts, __id, IF(${c.where(f)}, 1, 0) AS __m, ${c.input(f)} AS __v FROM ${p}_ev)`,
    ...ctes,
    `${m}_out AS (SELECT __rid, CAST(__val AS ${bqValueType(f.type)}) AS ${bqIdent(pf.col)} FROM ${result})`,
  ];
}

/** The CTEs of a pass and the name of its result CTE with `__rid` and one column per feature. */
export function bqPassCtes(input: BqPassInput): {
  ctes: string[];
  joins: { cte: string; cols: PassFeature[] }[];
} {
  const { pass, prefix: p, entTable } = input;
  const keys = pass.keys.map((_, i) => `__k${i}`);
  const c: Ctx = {
    pass,
    p,
    keys,
    where: (f) => `__w${idx(f)}`,
    input: (f) => `__x${idx(f)}`,
  };
  const idx = (f: FeatureSpec): number => pass.features.findIndex((pf) => pf.feature === f);
  // Every feature's filter and input, evaluated once per event in `<p>_ev`.
  const evExtra = pass.features.flatMap((pf, j) => {
    const f = pf.feature;
    if (f.aggregation === 'mode') return [];
    return [
      `${f.where ? `(${renderBqExpr(pass.schema, f.where, S)}) IS TRUE` : 'TRUE'} AS __w${j}`,
      `${!f.input ? 'CAST(NULL AS INT64)' : isSequenceKind(f.aggregation) ? renderBqExpr(pass.schema, f.input, S) : boundedInput(pass.schema, f.input, renderBqExpr(pass.schema, f.input, S), 'FLOAT64')} AS __x${j}`,
    ];
  });
  for (const pf of pass.features) {
    const f = pf.feature;
    if (f.aggregation !== 'mode' && (arrayOf(f.input) || arrayOf(f.where)))
      throw new LarderError(
        'LARDER_DEFINITION_INVALID',
        `${pf.view.name}:${f.name}: array paths are only supported as mode inputs and weights`,
      );
  }
  const ctes = [
    `${p}_ev AS (${eventsCte(c, null, evExtra)})`,
    `${p}_rows AS (SELECT __rid, ${pass.keys.map((k, i) => `CAST(${bqIdent(k.joinKey)} AS STRING) AS __k${i}`).join(', ')}, __t FROM ${entTable} WHERE ${pass.keys.map((k) => `${bqIdent(k.joinKey)} IS NOT NULL`).join(' AND ')})`,
  ];
  const joins: { cte: string; cols: PassFeature[] }[] = [];
  const windowed = pass.features.filter(
    (pf) =>
      pf.feature.windowMs !== null &&
      !isSequenceKind(pf.feature.aggregation) &&
      pf.feature.aggregation !== 'mode' &&
      pf.feature.aggregation !== 'last' &&
      pf.feature.aggregation !== 'count_distinct' &&
      pf.feature.aggregation !== 'last_n',
  );
  for (const h of [...new Set(windowed.map((pf) => pf.feature.hopMs as number))]) {
    const feats = windowed.filter((pf) => pf.feature.hopMs === h);
    ctes.push(...hopGroupCtes(c, h, feats));
    joins.push({ cte: `${p}_h${h}`, cols: feats });
  }
  pass.features.forEach((pf, j) => {
    if (pf.feature.aggregation === 'mode') {
      ctes.push(...modeCtes(c, pf, j));
      joins.push({ cte: `${p}_m${j}`, cols: [pf] });
    } else if (pf.feature.aggregation === 'last' && pf.feature.windowMs !== null) {
      ctes.push(...lastCtes(c, pf, j));
      joins.push({ cte: `${p}_w${j}`, cols: [pf] });
    } else if (pf.feature.aggregation === 'count_distinct') {
      ctes.push(...countDistinctCtes(c, pf, j));
      joins.push({ cte: `${p}_d${j}`, cols: [pf] });
    } else if (pf.feature.aggregation === 'last_n') {
      ctes.push(...lastNCtes(c, pf, j));
      joins.push({ cte: `${p}_n${j}`, cols: [pf] });
    } else if (isSequenceKind(pf.feature.aggregation)) {
      ctes.push(...sequenceFeatureCtes(c, pf, j));
      joins.push({ cte: `${p}_q${j}_out`, cols: [pf] });
    }
  });
  const life = pass.features.filter(
    (pf) => pf.feature.windowMs === null && !isSequenceKind(pf.feature.aggregation),
  );
  if (life.length > 0) {
    ctes.push(...lifetimeCtes(c, life));
    joins.push({ cte: `${p}_life`, cols: life });
  }
  return { ctes, joins };
}

/**
 * Every distinct key tuple of a pass's events (the view's filter applied, null keys skipped),
 * as STRING columns named after the join keys: the entities a time-grid export samples.
 */
export function bqDistinctKeysSql(pass: Pass): string {
  const keys = pass.keys.map(
    (k) => `CAST(${renderBqExpr(pass.schema, k.expr, S)} AS STRING) AS ${bqIdent(k.joinKey)}`,
  );
  const conds = pass.keys.map((k) => `${renderBqExpr(pass.schema, k.expr, S)} IS NOT NULL`);
  if (pass.filter) conds.push(`(${renderBqExpr(pass.schema, pass.filter, S)}) IS TRUE`);
  return `SELECT DISTINCT ${keys.join(', ')} FROM ${pass.srcTable} AS s WHERE ${conds.join(' AND ')}`;
}

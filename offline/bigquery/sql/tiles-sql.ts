/**
 * Materialization in BigQuery: per hop size, one row per (entity key, hop) with the partial
 * state of every windowed feature of that hop size, and per entity key the lifetime `last`
 * states as of `end` — the same tiles the DuckDB store's `tilesSql` yields, as flat columns
 * (no STRUCT or ARRAY results) that {@link BqTilesQuery.decode} turns into the aggregation
 * library's JSON states.
 *
 * - `count` / `sum` / `avg` / `min` / `max`: one GROUP BY over the hop's events;
 * - `last`: the newest event per tile (ts, then id, then value, descending) with `ROW_NUMBER()`;
 * - `mode`: per (key, hop, value) summed weights, folded into a JSON object string;
 * - `count_distinct`: the tile's distinct values, `last_n`: its newest n events (each value's
 *   newest with `distinct`) as `{ts, id, v}`, both as a JSON array string folded through the
 *   aggregation library (`foldListState`).
 */
import { LarderError } from '../../../core/errors.ts';
import type { ExprNode } from '../../../definitions/expr/expr.ts';
import type { FeatureSpec } from '../../../definitions/spec.ts';
import { featuresByHop, type Pass } from '../../export/pass.ts';
import { bqIdent } from './bq-sql.ts';
import { arrayOf, hopOf, S } from './pass-sql.ts';
import { renderBqExpr } from './render-expr.ts';
import { boundedInput, boundedNumber } from '../../sql/bounded-input.ts';
import { foldListState } from '../../fold-list-state.ts';

export interface BqTilesQuery {
  /** null for the lifetime query. */
  hopMs: number | null;
  features: FeatureSpec[];
  sql: string;
  /** Key columns are `__k0 …`; the hop is `__hop`. */
  decode: (row: Record<string, unknown>) => Record<string, unknown>;
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** A BigQuery value as the feature's JSON scalar (INT64 and FLOAT64 may arrive as strings). */
function scalar(f: FeatureSpec, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  return f.type === 'int64' || f.type === 'float64' ? Number(v) : v;
}

function lastState(f: FeatureSpec, row: Record<string, unknown>, c: string): unknown {
  const ts = row[`${c}_ts`];
  if (ts === null || ts === undefined) return null;
  return { v: scalar(f, row[`${c}_v`]), ts: Number(ts), id: String(row[`${c}_id`]) };
}

export function bqTilesSql(pass: Pass, start: number, end: number): BqTilesQuery[] {
  const schema = pass.schema;
  const keys = pass.keys.map((_, i) => `__k${i}`);
  const keyList = keys.join(', ');
  const keyExprs = pass.keys.map(
    (k, i) => `CAST(${renderBqExpr(schema, k.expr, S)} AS STRING) AS __k${i}`,
  );
  const conds = pass.keys.map((k) => `${renderBqExpr(schema, k.expr, S)} IS NOT NULL`);
  if (pass.filter) conds.push(`(${renderBqExpr(schema, pass.filter, S)}) IS TRUE`);
  const ts = `s.${bqIdent(pass.timestampField)}`;
  const id = `CAST(s.${bqIdent(pass.idField)} AS STRING)`;
  const where = (f: FeatureSpec): string =>
    f.where ? `(${renderBqExpr(schema, f.where, S)}) IS TRUE` : 'TRUE';
  const input = (f: FeatureSpec): string => {
    if (arrayOf(f.input) || arrayOf(f.where))
      throw new LarderError(
        'LARDER_DEFINITION_INVALID',
        `${f.name}: array paths are only supported as mode inputs and weights`,
      );
    const x = renderBqExpr(schema, f.input as ExprNode, S);
    return `IF(${where(f)}, ${boundedInput(schema, f.input as ExprNode, x, 'FLOAT64')}, NULL)`;
  };
  /** The pass's events with keys, `__ts`, `__id` and `extra` columns (before `end`). */
  const events = (extra: string[], from = `${pass.srcTable} AS s`, since = true): string =>
    `SELECT ${[...keyExprs, `${ts} AS __ts`, `${id} AS __id`, ...extra].join(', ')} FROM ${from} ` +
    `WHERE ${[...conds, ...(since ? [`${ts} >= ${start}`] : []), `${ts} < ${end}`].join(' AND ')}`;
  const newest = (cte: string, x: string, part: string): string =>
    `SELECT * EXCEPT (__rn) FROM (SELECT ${part}, __ts AS ts, __id AS id, ${x} AS v, ROW_NUMBER() OVER (PARTITION BY ${part} ORDER BY __ts DESC, __id DESC, ${x} DESC) AS __rn FROM ${cte} WHERE ${x} IS NOT NULL) WHERE __rn = 1`;

  const out: BqTilesQuery[] = [];
  for (const [h, feats] of featuresByHop(pass)) {
    const plain = feats.filter((pf) => pf.feature.aggregation !== 'mode');
    const ctes: string[] = [];
    const cols: string[] = [];
    const joins: string[] = [];
    const part = `${keyList}, __hop`;
    // Inputs are computed over the source (alias `s`); the hop over the plain `__ts` column.
    ctes.push(
      `ev AS (SELECT *, ${hopOf('__ts', h)} AS __hop FROM (${events(
        plain.map((pf, j) =>
          pf.feature.aggregation === 'count'
            ? `${where(pf.feature)} AS x${j}`
            : `${input(pf.feature)} AS x${j}`,
        ),
      )}))`,
    );
    const aggs: string[] = [];
    plain.forEach((pf, j) => {
      const x = `x${j}`;
      const c = `c${j}`;
      switch (pf.feature.aggregation) {
        case 'count':
          aggs.push(`COUNTIF(${x}) AS ${c}`);
          break;
        case 'sum':
          aggs.push(`SUM(${x}) AS ${c}`);
          break;
        case 'avg':
          aggs.push(`SUM(${x}) AS ${c}_sum, COUNT(${x}) AS ${c}_count`);
          break;
        case 'min':
        case 'max':
          aggs.push(`${pf.feature.aggregation.toUpperCase()}(${x}) AS ${c}`);
          break;
        case 'count_distinct':
          ctes.push(
            `d${j}_v AS (SELECT ${part}, ${x} AS v FROM ev WHERE ${x} IS NOT NULL GROUP BY ${part}, v)`,
            `d${j} AS (SELECT ${part}, CONCAT('[', STRING_AGG(TO_JSON_STRING(v), ','), ']') AS s FROM d${j}_v GROUP BY ${part})`,
          );
          joins.push(`LEFT JOIN d${j} USING (${part})`);
          cols.push(`d${j}.s AS ${c}_list`);
          break;
        case 'last_n': {
          const ord = `ORDER BY __ts DESC, __id DESC, ${x} DESC`;
          const distinct = pf.feature.distinct
            ? `(SELECT * EXCEPT (__d) FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY ${part}, ${x} ${ord}) AS __d FROM ev WHERE ${x} IS NOT NULL) WHERE __d = 1)`
            : `(SELECT * FROM ev WHERE ${x} IS NOT NULL)`;
          ctes.push(
            `n${j}_v AS (SELECT * FROM (SELECT ${part}, __ts, __id, ${x}, ROW_NUMBER() OVER (PARTITION BY ${part} ${ord}) AS __n FROM ${distinct}) WHERE __n <= ${pf.feature.n ?? 0})`,
            `n${j} AS (SELECT ${part}, CONCAT('[', STRING_AGG(CONCAT('{"ts":', CAST(__ts AS STRING), ',"id":', TO_JSON_STRING(__id), ',"v":', TO_JSON_STRING(${x}), '}'), ','), ']') AS s FROM n${j}_v GROUP BY ${part})`,
          );
          joins.push(`LEFT JOIN n${j} USING (${part})`);
          cols.push(`n${j}.s AS ${c}_list`);
          break;
        }
        default: // last
          ctes.push(`l${j} AS (${newest('ev', x, part)})`);
          joins.push(`LEFT JOIN l${j} USING (${part})`);
          cols.push(`l${j}.ts AS ${c}_ts, l${j}.id AS ${c}_id, l${j}.v AS ${c}_v`);
      }
    });
    ctes.push(
      `g AS (SELECT ${part}${aggs.map((a) => `, ${a}`).join('')} FROM ev GROUP BY ${part})`,
    );
    feats.forEach((pf, j) => {
      if (pf.feature.aggregation !== 'mode') return;
      const f = pf.feature;
      const unnest = arrayOf(f.input) ?? arrayOf(f.weight);
      const opts = unnest ? { ...S, unnested: { [unnest]: '__item' } } : S;
      const v = boundedInput(
        schema,
        f.input as ExprNode,
        renderBqExpr(schema, f.input as ExprNode, opts),
        'FLOAT64',
      );
      const w = f.weight
        ? boundedNumber(`CAST(${renderBqExpr(schema, f.weight, opts)} AS FLOAT64)`)
        : '1.0';
      const from = unnest
        ? `${pass.srcTable} AS s, UNNEST(${renderBqExpr(schema, { op: 'col', path: unnest }, S)}) AS __item`
        : `${pass.srcTable} AS s`;
      const c = `m${j}`;
      ctes.push(
        `${c}_ev AS (SELECT *, ${hopOf('__ts', h)} AS __hop FROM (${events([`IF(${where(f)}, ${v}, NULL) AS v`, `${w} AS w`], from)}))`,
        `${c}_w AS (SELECT ${part}, v, SUM(w) AS w FROM ${c}_ev WHERE v IS NOT NULL AND w IS NOT NULL GROUP BY ${part}, v)`,
        `${c} AS (SELECT ${part}, CONCAT('{', STRING_AGG(CONCAT(TO_JSON_STRING(v), ':', CAST(w AS STRING)), ','), '}') AS s FROM ${c}_w GROUP BY ${part})`,
      );
      joins.push(`LEFT JOIN ${c} USING (${part})`);
      cols.push(`${c}.s AS c${feats.indexOf(pf)}_mode`);
    });
    // `last` columns are named by their index among `plain`; rename to the index among `feats`.
    const sql = `WITH ${ctes.join(', ')} SELECT g.*${cols.map((c) => `, ${c}`).join('')} FROM g ${joins.join(' ')}`;
    out.push({
      hopMs: h,
      features: feats.map((pf) => pf.feature),
      sql,
      decode: (row) => {
        const states: Record<string, unknown> = {};
        for (const pf of feats) {
          const f = pf.feature;
          const j = plain.indexOf(pf);
          const c = `c${j}`;
          switch (f.aggregation) {
            case 'count':
            case 'sum':
              states[f.name] = num(row[c]) ?? 0;
              break;
            case 'avg':
              states[f.name] = {
                sum: num(row[`${c}_sum`]) ?? 0,
                count: num(row[`${c}_count`]) ?? 0,
              };
              break;
            case 'min':
            case 'max':
              states[f.name] = scalar(f, row[c]);
              break;
            case 'last':
              states[f.name] = lastState(f, row, c);
              break;
            case 'count_distinct':
            case 'last_n': {
              const s = row[`${c}_list`];
              states[f.name] = foldListState(
                f,
                s === null || s === undefined ? null : (JSON.parse(String(s)) as unknown[]),
              );
              break;
            }
            default: {
              const s = row[`c${feats.indexOf(pf)}_mode`];
              states[f.name] = s === null || s === undefined ? {} : JSON.parse(String(s));
            }
          }
        }
        return states;
      },
    });
  }

  const lifetime = pass.features.filter((pf) => pf.feature.windowMs === null);
  if (lifetime.length > 0) {
    const ttl = lifetime[0]!.view.ttlMs;
    const ctes = [
      `lev AS (${events(
        lifetime.map((pf, j) => `${input(pf.feature)} AS x${j}`),
        `${pass.srcTable} AS s`,
        false,
      )} AND ${end} - 1 - ${ts} <= ${ttl})`,
      `lk AS (SELECT DISTINCT ${keyList} FROM lev)`,
      ...lifetime.map((_, j) => `l${j} AS (${newest('lev', `x${j}`, keyList)})`),
    ];
    const cols = lifetime.map(
      (_, j) => `l${j}.ts AS c${j}_ts, l${j}.id AS c${j}_id, l${j}.v AS c${j}_v`,
    );
    const sql =
      `WITH ${ctes.join(', ')} SELECT lk.*, ${cols.join(', ')} FROM lk ${lifetime.map((_, j) => `LEFT JOIN l${j} USING (${keyList})`).join(' ')} ` +
      `WHERE ${lifetime.map((_, j) => `l${j}.ts IS NOT NULL`).join(' OR ')}`;
    out.push({
      hopMs: null,
      features: lifetime.map((pf) => pf.feature),
      sql,
      decode: (row) =>
        Object.fromEntries(
          lifetime.map((pf, j) => [pf.feature.name, lastState(pf.feature, row, `c${j}`)]),
        ),
    });
  }
  return out;
}

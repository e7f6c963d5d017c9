/**
 * Sequence features (previous-event relations, gap sessions) as SQL, shared by the DuckDB SQL
 * engine and BigQuery: window functions over one entity's events, then a join of the entity
 * rows with the events they remember. Semantics: `aggregation/brute-force-sequence.ts` (the
 * reference), memory window included — at `t` only events with `from(t) <= ts <= t` exist,
 * `from(t) = windowStart(t, TTL, memory hop)`.
 *
 * Per event, in the order of `compareEvents` (ts, id, compared value with nulls first, match):
 * - `__pts` / `__pv`: the previous event's ts and compared value (`LAG`);
 * - `__st`: the start ts of the event's session — the greatest ts so far whose gap to its
 *   previous event is > G (or that has none).
 * Per entity row at `t`:
 * - `count_previous`: matching events of `[ws(t), t]` whose relation to their previous event
 *   holds and whose previous event is remembered (`__pts >= from(t)`);
 * - current session: the row's remembered events grouped by `__st`; the group with the greatest
 *   `__st` is the current session if `t - its newest ts <= G`; its oldest remembered ts is its
 *   start (a session longer than the memory starts at its oldest remembered event);
 * - `session_count` / `session_avg_duration`: events of `[ws(t), t]` grouped by `__st >= ws(t)`
 *   (such sessions are wholly remembered: the TTL rule of `sequence-spec.ts`), the groups that
 *   hold a matching event, each lasting `newest ts <= t - __st`.
 * Entity rows without a value get the empty value (0 for counts, null for durations).
 */
import { memoryHopMs, type SequenceKind } from '../../core/sequence.ts';
import type { FeatureSpec } from '../../definitions/spec.ts';

/** What differs between the dialects. */
export interface SequenceSqlDialect {
  /** `floor(col / h) * h` of an integer column (a plain column name). */
  hopStart(col: string, h: number): string;
  /** The floating point type: `DOUBLE`, `FLOAT64`. */
  float: string;
  /** An ascending ORDER BY term with nulls first. */
  nullsFirst(x: string): string;
}

export interface SequenceSqlInput {
  dialect: SequenceSqlDialect;
  /** CTE name prefix. */
  prefix: string;
  /** Key columns shared by `events` and `rows` (`__k0`, …). */
  keys: readonly string[];
  /** Relation of the pass's events: keys, `__ts`, `__id`, `__m` (1 = matches), `__v`. */
  events: string;
  /** Relation of the entity rows with non-null keys: `__rid`, keys, `__t`. */
  rows: string;
  feature: FeatureSpec;
  /** The view's TTL: the memory window. */
  ttlMs: number;
}

/** The CTEs (`name AS (…)`) of one sequence feature; `result` has `(__rid, __val)`. */
export function sequenceCtes(input: SequenceSqlInput): { ctes: string[]; result: string } {
  const { dialect: d, prefix: m, keys, events, rows, feature: f, ttlMs } = input;
  const kind = f.aggregation as SequenceKind;
  const seq = f.sequence;
  if (!seq) throw new Error(`${f.name} is not a sequence feature`);
  const k = keys.join(', ');
  const on = keys.map((c) => `r.${c} = e.${c}`).join(' AND ');
  const order = `ORDER BY __ts, __id, ${d.nullsFirst('__v')}, __m`;
  const M = memoryHopMs(ttlMs);
  const from = `${d.hopStart('__t', M)} - ${ttlMs - M}`;
  // The current session has no window: `__ws` is unused then.
  const ws =
    f.windowMs === null || f.hopMs === null
      ? '__t'
      : `${d.hopStart('__t', f.hopMs)} - ${f.windowMs - f.hopMs}`;
  const ctes = [
    `${m}_e0 AS (SELECT ${k}, __ts, __id, __m, __v, LAG(__ts) OVER (PARTITION BY ${k} ${order}) AS __pts, LAG(__v) OVER (PARTITION BY ${k} ${order}) AS __pv FROM ${events})`,
    `${m}_r AS (SELECT __rid, ${k}, __t, ${ws} AS __ws, ${from} AS __from FROM ${rows})`,
  ];
  const empty = kind === 'session_avg_duration' || kind === 'current_session_duration' ? null : 0;
  if (kind === 'count_previous') {
    const p = seq.previous!;
    const holds =
      p.kind === 'gap_below'
        ? `__ts - __pts < ${p.ms}`
        : '__v IS NOT NULL AND __pv IS NOT NULL AND __v <> __pv';
    ctes.push(
      `${m}_e AS (SELECT ${k}, __ts, __pts FROM ${m}_e0 WHERE __m = 1 AND __pts IS NOT NULL AND ${holds})`,
      `${m}_a AS (SELECT r.__rid, COUNT(*) AS __val FROM ${m}_r r JOIN ${m}_e e ON ${on} AND e.__ts >= r.__ws AND e.__ts <= r.__t AND e.__pts >= r.__from GROUP BY r.__rid)`,
    );
  } else {
    const G = seq.gapMs!;
    ctes.push(
      `${m}_e1 AS (SELECT ${k}, __ts, __m, MAX(CASE WHEN __pts IS NULL OR __ts - __pts > ${G} THEN __ts END) OVER (PARTITION BY ${k} ${order} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS __st FROM ${m}_e0)`,
    );
    if (kind === 'current_session_count' || kind === 'current_session_duration') {
      const v = kind === 'current_session_count' ? '__n' : `CAST(__hi - __lo AS ${d.float}) / 1000`;
      ctes.push(
        `${m}_g AS (SELECT r.__rid, r.__t, e.__st, SUM(e.__m) AS __n, MIN(e.__ts) AS __lo, MAX(e.__ts) AS __hi FROM ${m}_r r JOIN ${m}_e1 e ON ${on} AND e.__ts >= r.__from AND e.__ts <= r.__t GROUP BY r.__rid, r.__t, e.__st)`,
        `${m}_a AS (SELECT __rid, CASE WHEN __t - __hi <= ${G} THEN ${v} END AS __val FROM (SELECT __rid, __t, __n, __lo, __hi, ROW_NUMBER() OVER (PARTITION BY __rid ORDER BY __st DESC) AS __i FROM ${m}_g) WHERE __i = 1)`,
      );
    } else {
      ctes.push(
        `${m}_g AS (SELECT r.__rid, e.__st, SUM(e.__m) AS __n, MAX(e.__ts) AS __hi FROM ${m}_r r JOIN ${m}_e1 e ON ${on} AND e.__st >= r.__ws AND e.__ts >= r.__ws AND e.__ts <= r.__t GROUP BY r.__rid, e.__st)`,
        `${m}_a AS (SELECT __rid, ${
          kind === 'session_count'
            ? 'COUNT(*)'
            : `CAST(SUM(__hi - __st) AS ${d.float}) / 1000 / COUNT(*)`
        } AS __val FROM ${m}_g WHERE __n > 0 GROUP BY __rid)`,
      );
    }
  }
  const val = empty === 0 ? 'COALESCE(a.__val, 0)' : 'a.__val';
  ctes.push(
    `${m} AS (SELECT r.__rid, ${val} AS __val FROM ${m}_r r LEFT JOIN ${m}_a a ON a.__rid = r.__rid)`,
  );
  return { ctes, result: m };
}

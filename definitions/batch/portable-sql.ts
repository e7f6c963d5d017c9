/**
 * The portable SQL of batch view queries: one text that DuckDB and BigQuery run with the same
 * result. This lint refuses the constructs of one dialect that the other reads differently or
 * not at all; `apply` then runs the query on an empty input (see `offline/batch/`).
 */
import { SNAPSHOT_PLACEHOLDER } from './batch-view-spec.ts';

interface Rule {
  re: RegExp;
  message: string;
  hint: string;
}

const RULES: Rule[] = [
  {
    re: /"/,
    message: 'double quotes are identifiers in DuckDB but string literals in BigQuery',
    hint: "write strings in single quotes ('completed') and plain lower_snake identifiers",
  },
  {
    re: /`/,
    message: 'backquoted identifiers are BigQuery only',
    hint: 'use plain lower_snake identifiers',
  },
  {
    re: /::/,
    message: 'x::TYPE casts are DuckDB only',
    hint: 'write CAST(x AS BIGINT) or let the declared feature type cast the output',
  },
  {
    re: /\/\//,
    message: '// (integer division) is DuckDB only',
    hint: 'write FLOOR(a / b)',
  },
  {
    re: /\b(countif|safe_divide|safe_cast|div|ifnull|date_diff|timestamp_millis|unix_millis|qualify|array_agg|epoch_ms|make_timestamp|strftime|format_timestamp|arg_max|arg_min)\b/i,
    message: 'a function or clause of one dialect only',
    hint: 'use the portable subset: CASE, COUNT, COUNT(DISTINCT), SUM, MIN, MAX, AVG, FLOOR, ABS, COALESCE, CAST, + - * /',
  },
  {
    re: /\b(float64|int64|bool|double|varchar)\b/i,
    message:
      'a type name of one dialect only (FLOAT64, INT64, BOOL: BigQuery; DOUBLE, VARCHAR: DuckDB)',
    hint: 'cast with CAST(x AS BIGINT) or CAST(x AS STRING) (both dialects accept them); the declared feature type casts the output',
  },
  {
    re: /;/,
    message: 'one statement only',
    hint: 'drop the semicolon',
  },
];

/** The problems of a query against the portable subset, as { message, hint }. */
export function portableSqlProblems(query: string): { message: string; hint: string }[] {
  const out: { message: string; hint: string }[] = [];
  // String literals may hold anything: their contents are not checked.
  const code = query.replace(/'(?:[^']|'')*'/g, "''").replace(/--[^\n]*/g, '');
  for (const r of RULES) {
    const m = r.re.exec(code);
    if (m) out.push({ message: `"${m[0]}": ${r.message}`, hint: r.hint });
  }
  if (!/\bfrom\s+source\b/i.test(code))
    out.push({
      message: 'the query does not read the relation "source"',
      hint: 'select from source: SELECT user_id, count(*) AS n FROM source GROUP BY user_id',
    });
  return out;
}

/** The query for snapshot D: `@snapshot_ms` replaced by D (an integer literal). */
export function querySql(query: string, snapshotMs: number): string {
  if (!Number.isSafeInteger(snapshotMs)) throw new RangeError(`snapshot time ${snapshotMs}`);
  return query.replaceAll(SNAPSHOT_PLACEHOLDER, `CAST(${snapshotMs} AS BIGINT)`);
}

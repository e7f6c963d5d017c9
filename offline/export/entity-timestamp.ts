/** SQL for entity rows: parse `event_timestamp` into `__t` (epoch ms). */
import type { TimestampUnit } from '../offline-store.ts';
import { ident } from '../local/duckdb-client.ts';

export const TIMESTAMP_COLUMN = 'event_timestamp';

/** Integer types whose values (× 1000) fit a HUGEINT: read in integer arithmetic. */
const INTEGER = /^(BIGINT|INTEGER|SMALLINT|TINYINT|UBIGINT|UINTEGER|USMALLINT|UTINYINT)$/;
const FRACTIONAL = /^(DOUBLE|FLOAT|REAL|DECIMAL.*|HUGEINT|UHUGEINT)$/;

/**
 * Epoch ms (floored, so a row never sees a later event) from an exact decimal in `unit` (a
 * DECIMAL(29, 6): × 1000 cannot overflow it). NULL beyond a BIGINT: not a time.
 */
function epochMs(decimal: string, unit: TimestampUnit): string {
  // × 0.001 keeps a DECIMAL (exact); ÷ 1000 would be a DOUBLE, off by one beyond 2^53 µs.
  const scaled =
    unit === 's' ? `${decimal} * 1000` : unit === 'us' ? `${decimal} * 0.001` : decimal;
  return `TRY_CAST(floor(${scaled}) AS BIGINT)`;
}

/**
 * A number's text or value as the exact decimal {@link epochMs} scales: 23 integer digits hold
 * every epoch time in any unit (2^63 µs has 19), and NULL (not a time) is all a longer number
 * could give.
 */
const DECIMAL = 'DECIMAL(29, 6)';

/**
 * Epoch ms from a whole number in `unit`, in integer arithmetic (microseconds floored exactly).
 * The same values as `epochMs` over a DECIMAL, which DuckDB parses from text at ~25 µs a
 * value (a million-row entity file took 12 s); HUGEINT parses in ~0.2 µs.
 */
function epochMsOfInteger(int: string, unit: TimestampUnit): string {
  const scaled =
    unit === 's'
      ? `${int} * 1000`
      : unit === 'us'
        ? `CASE WHEN ${int} >= 0 THEN ${int} // 1000 ELSE -((999 - ${int}) // 1000) END`
        : int;
  return `TRY_CAST(${scaled} AS BIGINT)`;
}

/** `event_timestamp` as text, for a column that is neither a number nor a timestamp. */
function asText(type: string): string {
  const c = ident(TIMESTAMP_COLUMN);
  return type === 'JSON' ? `trim(${c}->>'$')` : `trim(CAST(${c} AS VARCHAR))`;
}

/**
 * `__t` from an `event_timestamp` column of DuckDB type `type`: typed timestamps as they are
 * (TIMESTAMP without a zone is UTC), numbers (or numeric strings) in `unit`, other strings as
 * ISO-8601. NULL when the value is none of these.
 */
export function timestampExpr(type: string, unit: TimestampUnit): string {
  const c = ident(TIMESTAMP_COLUMN);
  const t = type.toUpperCase();
  if (INTEGER.test(t)) return epochMsOfInteger(`CAST(${c} AS HUGEINT)`, unit);
  if (FRACTIONAL.test(t)) return epochMs(`TRY_CAST(${c} AS ${DECIMAL})`, unit);
  if (t === 'TIMESTAMP WITH TIME ZONE' || t === 'TIMESTAMPTZ') return `epoch_ms(${c})`;
  if (t.startsWith('TIMESTAMP')) return `epoch_ms(CAST(${c} AS TIMESTAMP))`;
  if (t === 'DATE') return `epoch_ms(CAST(${c} AS TIMESTAMP))`;
  const s = asText(t);
  // Whole numbers of up to 18 digits (every epoch time in range) take the integer path.
  const general =
    `CASE WHEN regexp_full_match(${s}, '-?[0-9]{1,18}') THEN ${epochMsOfInteger(`CAST(${s} AS HUGEINT)`, unit)} ` +
    `WHEN regexp_full_match(${s}, '-?[0-9]+(\\.[0-9]+)?') THEN ${epochMs(`TRY_CAST(${s} AS ${DECIMAL})`, unit)} ` +
    `ELSE epoch_ms(TRY_CAST(${s} AS TIMESTAMPTZ)) END`;
  if (t !== 'VARCHAR') return general;
  // Text written as an integer in its shortest form (what a file of epoch numbers holds) is
  // that integer: the text is exactly the BIGINT's own, and within 18 digits, so it is one the
  // regular expression above takes too, with the same value — found without trimming or a
  // regular expression per row (≈ 0.13 CPU-s less per 1M rows). Anything else (spaces, a sign,
  // leading zeros, decimals, ISO-8601) takes the general path.
  const int = `TRY_CAST(${c} AS BIGINT)`;
  return (
    `CASE WHEN CAST(${int} AS VARCHAR) = ${c} AND ${int} BETWEEN -999999999999999999 AND 999999999999999999 ` +
    `THEN ${epochMsOfInteger(`CAST(${int} AS HUGEINT)`, unit)} ELSE ${general} END`
  );
}

/** Whether `event_timestamp` (of DuckDB type `type`) was given as an epoch number. */
export function timestampIsNumberExpr(type: string): string {
  const t = type.toUpperCase();
  if (INTEGER.test(t) || FRACTIONAL.test(t)) return 'true';
  if (t.startsWith('TIMESTAMP') || t === 'DATE') return 'false';
  return `coalesce(regexp_full_match(${asText(t)}, '-?[0-9]+(\\.[0-9]+)?'), false)`;
}

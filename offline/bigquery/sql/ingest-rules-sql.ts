/**
 * The batch ingest rules in BigQuery Standard SQL: a row of a source table whose event time lies
 * outside JavaScript's date range or later than now + `ingest.maxFutureSkew` is a reject, left
 * out of every read, as the DuckDB store rejects such a raw record (`ingestReasonSql` in
 * `offline/duckdb/sql/read-source.ts`, `ingestProblem` in `offline/validate-record.ts`; join-key
 * sizes are not checked on batch reads there either). `now` is a literal, the store's clock at
 * the read, so the SQL of a read is deterministic under an injected clock.
 *
 * @example
 * bqSourceSql('`p.d.events`', ['id', 'ts'], 'ts', { now: 1_700_000_000_000, maxFutureSkewMs: 300_000 });
 * // '(SELECT `id`, `ts` FROM `p.d.events` WHERE `ts` IS NULL OR `ts` BETWEEN -8640000000000000 AND 1700000300000)'
 */
import { futureMessage, MAX_DATE_MS, outOfRangeMessage } from '../../validate-record.ts';
import { bqIdent, bqString } from './bq-sql.ts';

/** The clock reading of one read and `ingest.maxFutureSkew`. */
export interface BqIngestRules {
  /** Epoch ms: the store's clock when the read starts. */
  now: number;
  maxFutureSkewMs: number;
}

/** True for a row the rules accept (a NULL event time is not theirs to judge). */
export const bqGoodSql = (field: string, rules: BqIngestRules): string =>
  `${bqIdent(field)} IS NULL OR ${bqIdent(field)} BETWEEN -${MAX_DATE_MS} AND ${rules.now + rules.maxFutureSkewMs}`;

/** True for a row the rules reject. */
export const bqRejectedSql = (field: string, rules: BqIngestRules): string =>
  `${bqIdent(field)} < -${MAX_DATE_MS} OR ${bqIdent(field)} > ${rules.now + rules.maxFutureSkewMs}`;

/** The reason of a rejected row, the DuckDB store's text (`ingestProblem`); NULL otherwise. */
export function bqIngestReasonSql(field: string, rules: BqIngestRules): string {
  const e = bqIdent(field);
  const [before, after] = futureMessage(field, '\u0000', rules).split('\u0000');
  const [rb, ra] = outOfRangeMessage(field, '\u0000').split('\u0000');
  const text = (b: string, a: string): string =>
    `CONCAT(${bqString(b)}, CAST(${e} AS STRING), ${bqString(a)})`;
  return (
    `CASE WHEN ${e} < -${MAX_DATE_MS} OR ${e} > ${MAX_DATE_MS} THEN ${text(rb!, ra!)} ` +
    `WHEN ${e} > ${rules.now + rules.maxFutureSkewMs} THEN ${text(before!, after!)} END`
  );
}

/**
 * The rows of `table` the rules accept, as a parenthesized subquery every read selects from,
 * with the source schema's top-level `fields` (BigQuery reads only the columns a query uses).
 * The columns are named, not `*`: the test emulator loses rows under a `SELECT *` subquery.
 */
export const bqSourceSql = (
  table: string,
  fields: readonly string[],
  field: string,
  rules: BqIngestRules,
): string =>
  `(SELECT ${fields.map(bqIdent).join(', ')} FROM ${table} WHERE ${bqGoodSql(field, rules)})`;

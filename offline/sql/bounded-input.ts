/**
 * The SQL side of the aggregation input rule (`aggregation/normalize-input.ts`,
 * docs/concepts.md "Nulls"): a number an aggregation reads — its input after expressions, or a
 * `mode` weight — whose magnitude is above 1e300 is NULL, so no sum overflows to ±Infinity
 * (which tile states, stored as JSON, and answers could not carry). Both dialects spell it the
 * same way; only the name of the double type differs.
 */
import type { ExprNode } from '../../definitions/expr/expr.ts';
import { inferExprType } from '../../definitions/expr/expr-type.ts';
import type { RecordType } from '../../definitions/record-schema.ts';
import { MAX_INPUT_MAGNITUDE } from '../../aggregation/index.ts';

/** `1e300`, as SQL writes it. */
const LIMIT = MAX_INPUT_MAGNITUDE.toExponential().replace('+', '');

/** The double type's name: `DOUBLE` (DuckDB) or `FLOAT64` (BigQuery). */
export type DoubleType = 'DOUBLE' | 'FLOAT64';

/** `double` (an expression of the double type) when its magnitude is at most 1e300, else NULL. */
export function boundedNumber(double: string): string {
  return `(CASE WHEN abs(${double}) <= ${LIMIT} THEN ${double} END)`;
}

/**
 * An aggregation input rendered as `sql`: bounded when `node` is numeric (int64 or float64; the
 * test reads it as a double, whose `abs` cannot overflow), as is otherwise (strings and booleans
 * cannot overflow).
 */
export function boundedInput(
  schema: RecordType,
  node: ExprNode,
  sql: string,
  double: DoubleType,
): string {
  const t = inferExprType(schema, node);
  return !('error' in t) && (t.type === 'int64' || t.type === 'float64')
    ? `(CASE WHEN abs(CAST(${sql} AS ${double})) <= ${LIMIT} THEN ${sql} END)`
    : sql;
}

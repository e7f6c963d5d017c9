import type { Scalar } from '../core/types.ts';

/**
 * The largest magnitude an aggregation input (or `mode` weight) may have: a number above it is
 * null, like NaN and ±Infinity. 10^8 inputs of at most 1e300 sum to at most 1e308, below
 * `Number.MAX_VALUE` (≈ 1.8e308), so no sum, average or weight total overflows to ±Infinity —
 * which JSON states and answers could not carry. Every engine applies the same bound: the
 * library here (stream, push), the DuckDB and BigQuery SQL (`offline/sql/bounded-input.ts`),
 * the sweep and the reference.
 */
export const MAX_INPUT_MAGNITUDE = 1e300;

/** A number an aggregation reads: finite and of magnitude at most {@link MAX_INPUT_MAGNITUDE}. */
export function isAggregableNumber(n: number): boolean {
  return Math.abs(n) <= MAX_INPUT_MAGNITUDE; // false for NaN and ±Infinity too
}

/**
 * The value an aggregator actually sees: `null`, `undefined`, non-finite numbers (NaN,
 * ±Infinity) and numbers of magnitude above {@link MAX_INPUT_MAGNITUDE} all become `null`,
 * which every aggregation except `count` skips; `-0` becomes `0` (JSON has no `-0`, and states
 * must survive a JSON round trip unchanged).
 *
 * Records arrive as JSON, which cannot carry NaN or Infinity, and `toNumber()` yields null for
 * them; JSON does carry 1e308, whose sums would overflow.
 */
export function normalizeInput(value: Scalar | null | undefined): Scalar | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return isAggregableNumber(value) ? value + 0 : null;
  return value;
}

/** A numeric input for `sum` / `avg`; a non-number is a definition error, not data to skip. */
export function numericInput(kind: string, value: Scalar | null | undefined): number | null {
  const v = normalizeInput(value);
  if (v === null || typeof v === 'number') return v;
  throw new TypeError(`${kind} aggregates numbers, got ${typeof v} ${JSON.stringify(v)}`);
}

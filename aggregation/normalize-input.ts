import type { Scalar } from '../core/types.ts';

/**
 * The value an aggregator actually sees: `null`, `undefined` and non-finite numbers (NaN,
 * ±Infinity) all become `null`, which every aggregation except `count` skips; `-0` becomes `0`
 * (JSON has no `-0`, and states must survive a JSON round trip unchanged).
 *
 * Records arrive as JSON, which cannot carry NaN or Infinity, and `toNumber()` yields null for
 * them, so this only guards partial states: they are stored as JSON, where a non-finite number
 * would silently turn into `null`.
 */
export function normalizeInput(value: Scalar | null | undefined): Scalar | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return Number.isFinite(value) ? value + 0 : null;
  return value;
}

/** A numeric input for `sum` / `avg`; a non-number is a definition error, not data to skip. */
export function numericInput(kind: string, value: Scalar | null | undefined): number | null {
  const v = normalizeInput(value);
  if (v === null || typeof v === 'number') return v;
  throw new TypeError(`${kind} aggregates numbers, got ${typeof v} ${JSON.stringify(v)}`);
}

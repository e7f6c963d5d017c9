/** The relative tolerance tests use when comparing float results of different summation orders. */
export const FLOAT_RELATIVE_TOLERANCE = 1e-9;

/**
 * Whether two float results agree up to summation order: `|a - b| <= tol * max(|a|, |b|, 1)`.
 *
 * `sum` and `avg` use plain addition, so a window merged from tiles (per-hop sums added
 * together) and an offline SQL `SUM` over the same rows can differ in the last bits. Magnitudes
 * below 1 count as 1, so results that cancel to nearly 0 compare equal instead of failing on a
 * tiny absolute difference. Infinities are equal only to themselves; NaN equals nothing.
 *
 * @example
 * floatsEqual(0.1 + 0.2, 0.3) // true
 * floatsEqual(1, 1.000001)    // false
 */
export function floatsEqual(
  a: number,
  b: number,
  relTol: number = FLOAT_RELATIVE_TOLERANCE,
): boolean {
  if (a === b) return true;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  return Math.abs(a - b) <= relTol * Math.max(Math.abs(a), Math.abs(b), 1);
}

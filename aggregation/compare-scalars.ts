import type { Scalar } from '../core/types.ts';
import { compareCodePoints } from './compare-code-points.ts';

const TYPE_RANK = { boolean: 0, number: 1, string: 2 } as const;

/**
 * The total order `min` and `max` use: numbers numerically, strings by code point (never
 * locale), booleans `false < true`. A feature has one value type, so mixed types should not
 * meet; if they do, the order is still total and deterministic: booleans < numbers < strings.
 * Callers never pass NaN (see {@link normalizeInput}).
 *
 * @example
 * compareScalars(9, 10) < 0       // numeric, not '9' > '10'
 * compareScalars('Z', 'a') < 0    // code point, not locale
 */
export function compareScalars(a: Scalar, b: Scalar): number {
  const ta = typeof a as keyof typeof TYPE_RANK;
  const tb = typeof b as keyof typeof TYPE_RANK;
  if (ta !== tb) return TYPE_RANK[ta] - TYPE_RANK[tb];
  if (ta === 'string') return compareCodePoints(a as string, b as string);
  if (ta === 'number')
    return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
  return Number(a) - Number(b);
}

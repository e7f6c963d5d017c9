/**
 * The drift statistics against known values. The constants come from closed forms computed with
 * Python's standard library (scipy is not installed here; each form is what scipy.stats
 * computes):
 *
 *   import math
 *   math.erfc(math.sqrt(6.666666666666667 / 2))       # chi2.sf(20/3, 1)  = 0.009823274507519245
 *   math.exp(-5.991 / 2)                              # chi2.sf(5.991, 2) = 0.05001161502657909
 *   x = 9.488; math.exp(-x / 2) * (1 + x / 2)         # chi2.sf(9.488, 4) = 0.04999440557799463
 *   x = 7.815; math.erfc(math.sqrt(x / 2)) + math.sqrt(2 * x / math.pi) * math.exp(-x / 2)
 *                                                     # chi2.sf(7.815, 3) = 0.04999390297488389
 *   Q = lambda l: 2 * sum((-1) ** (k - 1) * math.exp(-2 * k * k * l * l) for k in range(1, 101))
 *   Q(1.3581), Q(1.6276), Q(0.5)  # kstwobign.sf: 0.0499996304316674, 0.010001537333060776, 0.9639452436648751
 *   (0.25 - 0.5) * math.log(0.5) + (0.75 - 0.5) * math.log(1.5)   # PSI = 0.2746530721670274
 */
import { describe, expect, it } from 'vitest';
import {
  binCounts,
  categoricalPsi,
  categoryCounts,
  chiSquareSurvival,
  chiSquareTwoSample,
  kolmogorovSurvival,
  ksTwoSample,
  numericPsi,
  psi,
  quantileEdges,
} from '../../monitoring/drift-stats.ts';

describe('drift statistics', () => {
  it('chi-square survival matches the closed forms for 1–4 degrees of freedom', () => {
    expect(chiSquareSurvival(20 / 3, 1)).toBeCloseTo(0.009823274507519245, 12);
    expect(chiSquareSurvival(5.991, 2)).toBeCloseTo(0.05001161502657909, 12);
    expect(chiSquareSurvival(7.815, 3)).toBeCloseTo(0.04999390297488389, 12);
    expect(chiSquareSurvival(9.488, 4)).toBeCloseTo(0.04999440557799463, 12);
    expect(chiSquareSurvival(0, 3)).toBe(1);
  });

  it('Kolmogorov survival matches its series at the 5 % and 1 % critical values', () => {
    expect(kolmogorovSurvival(1.3581)).toBeCloseTo(0.0499996304316674, 12);
    expect(kolmogorovSurvival(1.6276)).toBeCloseTo(0.010001537333060776, 12);
    expect(kolmogorovSurvival(0.5)).toBeCloseTo(0.9639452436648751, 12);
    expect(kolmogorovSurvival(0)).toBe(1);
  });

  it('PSI of shares, with empty bins floored', () => {
    expect(psi([0.5, 0.5], [0.25, 0.75])).toBeCloseTo(0.2746530721670274, 14);
    expect(psi([0.5, 0.5], [0.5, 0.5])).toBe(0);
    // An empty current bin counts as 1e-4: (1e-4 − 0.5)·ln(1e-4/0.5) + (1 − 0.5)·ln(1/0.5).
    expect(psi([0.5, 0.5], [0, 1])).toBeCloseTo(
      (1e-4 - 0.5) * Math.log(1e-4 / 0.5) + 0.5 * Math.log(2),
      12,
    );
  });

  it('bins numbers at the reference deciles (numpy linear quantiles), nulls in a bin of their own', () => {
    const ref = Array.from({ length: 11 }, (_, i) => i); // 0..10: deciles at 1, 2, ..., 9
    expect(quantileEdges(ref)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(quantileEdges([3, 3, 3, 3])).toEqual([3]);
    expect(binCounts([0, 1, 1.5, 9, 9.5, 100, null], [1, 9])).toEqual([2, 2, 2, 1]);
    expect(numericPsi(ref, ref)).toBe(0);
    // Reference 0..10 has 2 values in bin 0 (≤ 1) and one in each other bin; all current values
    // fall in the last bin (> 9): PSI by hand.
    const r = [2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0].map((c) => c / 11);
    const c = [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0];
    expect(numericPsi(ref, [50, 60, 70])).toBeCloseTo(psi(r, c), 12);
  });

  it('KS two-sample: D by hand, p from the Kolmogorov distribution', () => {
    const disjoint = ksTwoSample([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]);
    expect(disjoint.statistic).toBe(1);
    expect(disjoint.pValue).toBeCloseTo(kolmogorovSurvival(Math.sqrt(2.5)), 14);
    // Empirical CDFs of [1,2,3,4] and [3,4,5,6] differ most at 2: 2/4 − 0.
    expect(ksTwoSample([1, 2, 3, 4], [3, 4, 5, 6]).statistic).toBe(0.5);
    expect(ksTwoSample([1, 2, 3], [3, 2, 1])).toEqual({ statistic: 0, pValue: 1 });
    expect(ksTwoSample([], [1]).statistic).toBeNaN();
  });

  it('chi-square homogeneity of category counts', () => {
    // [[10, 20], [20, 10]]: every expected count 15, χ² = 4 · 25 / 15 = 20 / 3, 1 dof.
    const r = chiSquareTwoSample([10, 20], [20, 10]);
    expect(r.statistic).toBeCloseTo(20 / 3, 12);
    expect(r.dof).toBe(1);
    expect(r.pValue).toBeCloseTo(0.009823274507519245, 12);
    expect(chiSquareTwoSample([5, 5, 0], [5, 5, 0])).toEqual({ statistic: 0, pValue: 1, dof: 1 });
    const c = categoryCounts(['ios', 'web', null], ['web', 'android']);
    expect(c).toEqual({
      categories: ['ios', 'web', '(null)', 'android'],
      reference: [1, 1, 1, 0],
      current: [0, 1, 0, 1],
    });
    expect(categoricalPsi(['a', 'b'], ['a', 'a', 'b', 'b'])).toBe(0);
  });
});

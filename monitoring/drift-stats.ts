/**
 * The statistics of drift (docs/monitoring.md "Drift"), pure functions:
 * - PSI (population stability index) `Σ (c − r) · ln(c / r)` over bins, with shares floored at
 *   1e-4 so an empty bin stays finite. Numbers are binned at the reference's deciles (edges
 *   deduplicated; bin i holds `edge[i-1] < x ≤ edge[i]`, the last bin everything above), each
 *   category is a bin of its own; nulls are a bin of their own in both.
 * - Kolmogorov–Smirnov two-sample test for numbers: D = the largest distance between the two
 *   empirical CDFs, p from the asymptotic Kolmogorov distribution at `√(n·m/(n+m)) · D`.
 * - Pearson's chi-square test of homogeneity for categories: a 2 × k table of counts
 *   (categories seen in either sample), k − 1 degrees of freedom, p = the chi-square survival
 *   function.
 */

/** Shares below this count as this in PSI (an empty bin would make it infinite). */
export const PSI_FLOOR = 1e-4;

/** PSI between two share vectors of the same bins. */
export function psi(reference: readonly number[], current: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < reference.length; i++) {
    const r = Math.max(reference[i] ?? 0, PSI_FLOOR);
    const c = Math.max(current[i] ?? 0, PSI_FLOOR);
    sum += (c - r) * Math.log(c / r);
  }
  return sum;
}

const shares = (counts: readonly number[]): number[] => {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => (total === 0 ? 0 : c / total));
};

/** The reference's decile edges (`bins − 1` inner edges, deduplicated, ascending). */
export function quantileEdges(reference: readonly number[], bins = 10): number[] {
  const sorted = [...reference].sort((a, b) => a - b);
  if (sorted.length === 0) return [];
  const edges: number[] = [];
  for (let i = 1; i < bins; i++) {
    // Linear interpolation between order statistics (numpy's default quantile).
    const pos = (i / bins) * (sorted.length - 1);
    const lo = Math.floor(pos);
    const v = sorted[lo]! + (pos - lo) * ((sorted[lo + 1] ?? sorted[lo]!) - sorted[lo]!);
    if (edges.length === 0 || v > edges[edges.length - 1]!) edges.push(v);
  }
  return edges;
}

/** Bin counts of numbers by inner edges (bin i: `edges[i-1] < x ≤ edges[i]`), nulls last. */
export function binCounts(values: readonly (number | null)[], edges: readonly number[]): number[] {
  const counts = new Array<number>(edges.length + 2).fill(0);
  for (const v of values) {
    if (v === null || Number.isNaN(v)) {
      counts[edges.length + 1]!++;
      continue;
    }
    let lo = 0;
    let hi = edges.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (v <= edges[mid]!) hi = mid;
      else lo = mid + 1;
    }
    counts[lo]!++;
  }
  return counts;
}

/** PSI of numbers, binned at the reference's deciles. */
export function numericPsi(
  reference: readonly (number | null)[],
  current: readonly (number | null)[],
  bins = 10,
): number {
  const edges = quantileEdges(
    reference.filter((v): v is number => v !== null && !Number.isNaN(v)),
    bins,
  );
  return psi(shares(binCounts(reference, edges)), shares(binCounts(current, edges)));
}

/** Counts per category of both samples, over the categories either has (null is one). */
export function categoryCounts(
  reference: readonly unknown[],
  current: readonly unknown[],
): { categories: string[]; reference: number[]; current: number[] } {
  const key = (v: unknown): string => (v === null || v === undefined ? '(null)' : String(v));
  const index = new Map<string, number>();
  for (const v of [...reference, ...current]) {
    const k = key(v);
    if (!index.has(k)) index.set(k, index.size);
  }
  const count = (vs: readonly unknown[]): number[] => {
    const c = new Array<number>(index.size).fill(0);
    for (const v of vs) c[index.get(key(v))!]!++;
    return c;
  };
  return { categories: [...index.keys()], reference: count(reference), current: count(current) };
}

/** PSI of categories, one bin each. */
export function categoricalPsi(reference: readonly unknown[], current: readonly unknown[]): number {
  const c = categoryCounts(reference, current);
  return psi(shares(c.reference), shares(c.current));
}

/** The Kolmogorov distribution's survival function `Q(λ) = 2 Σ (−1)^(k−1) e^(−2k²λ²)`. */
export function kolmogorovSurvival(lambda: number): number {
  if (lambda < 0.2) return 1;
  let sum = 0;
  for (let k = 1; k <= 100; k++) {
    const term = Math.exp(-2 * k * k * lambda * lambda);
    sum += (k % 2 === 1 ? 1 : -1) * term;
    if (term < 1e-16) break;
  }
  return Math.min(1, Math.max(0, 2 * sum));
}

export interface TestResult {
  statistic: number;
  pValue: number;
}

/** Two-sample Kolmogorov–Smirnov test (nulls left out; NaN statistic for an empty sample). */
export function ksTwoSample(a: readonly number[], b: readonly number[]): TestResult {
  const x = [...a].sort((p, q) => p - q);
  const y = [...b].sort((p, q) => p - q);
  const n = x.length;
  const m = y.length;
  if (n === 0 || m === 0) return { statistic: NaN, pValue: NaN };
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < n && j < m) {
    const v = Math.min(x[i]!, y[j]!);
    while (i < n && x[i]! <= v) i++;
    while (j < m && y[j]! <= v) j++;
    d = Math.max(d, Math.abs(i / n - j / m));
  }
  return { statistic: d, pValue: kolmogorovSurvival(Math.sqrt((n * m) / (n + m)) * d) };
}

/** ln Γ(x) (Lanczos, g = 7). */
function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
    -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
    1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  x -= 1;
  let a = c[0]!;
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** The regularized upper incomplete gamma function Q(s, x) (series / continued fraction). */
export function gammaQ(s: number, x: number): number {
  if (x <= 0) return 1;
  const lg = logGamma(s);
  if (x < s + 1) {
    let sum = 1 / s;
    let term = sum;
    for (let k = 1; k < 1000; k++) {
      term *= x / (s + k);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-15) break;
    }
    return 1 - sum * Math.exp(-x + s * Math.log(x) - lg);
  }
  // Lentz's continued fraction.
  const tiny = 1e-300;
  let b = x + 1 - s;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - s);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return Math.exp(-x + s * Math.log(x) - lg) * h;
}

/** The chi-square distribution's survival function with `dof` degrees of freedom. */
export const chiSquareSurvival = (x: number, dof: number): number => gammaQ(dof / 2, x / 2);

/** Pearson's chi-square test of homogeneity of two samples' category counts. */
export function chiSquareTwoSample(
  reference: readonly number[],
  current: readonly number[],
): TestResult & { dof: number } {
  const nr = reference.reduce((a, b) => a + b, 0);
  const nc = current.reduce((a, b) => a + b, 0);
  const total = nr + nc;
  let stat = 0;
  let k = 0;
  for (let i = 0; i < reference.length; i++) {
    const col = (reference[i] ?? 0) + (current[i] ?? 0);
    if (col === 0) continue;
    k++;
    const er = (nr * col) / total;
    const ec = (nc * col) / total;
    stat += ((reference[i] ?? 0) - er) ** 2 / er + ((current[i] ?? 0) - ec) ** 2 / ec;
  }
  const dof = k - 1;
  if (nr === 0 || nc === 0 || dof < 1)
    return { statistic: NaN, pValue: NaN, dof: Math.max(dof, 0) };
  return { statistic: stat, pValue: chiSquareSurvival(stat, dof), dof };
}

/** Drift thresholds when none are given: PSI above 0.2, or a p-value below 0.01. */
export const DRIFT_DEFAULTS = { psi: 0.2, p: 0.01 } as const;

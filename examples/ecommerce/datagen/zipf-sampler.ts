import type { Rng } from './rng.ts';

/**
 * Samples ranks 0..n-1 with P(rank k) ∝ 1 / (k + 1)^s (Zipf's law), by binary search over a
 * precomputed cumulative table (8 bytes per rank).
 *
 * @example
 * const zipf = new ZipfSampler(10_000, 1.1);
 * zipf.sample(rng); // 0 is the most likely rank
 */
export class ZipfSampler {
  readonly size: number;
  readonly #cdf: Float64Array;

  constructor(n: number, s: number) {
    if (!(n >= 1)) throw new RangeError(`ZipfSampler needs at least one rank, got ${n}`);
    this.size = n;
    this.#cdf = new Float64Array(n);
    let sum = 0;
    for (let k = 0; k < n; k++) {
      sum += 1 / Math.pow(k + 1, s);
      this.#cdf[k] = sum;
    }
    for (let k = 0; k < n; k++) this.#cdf[k] = (this.#cdf[k] as number) / sum;
  }

  /** A rank in [0, size). */
  sample(rng: Rng): number {
    const x = rng.next();
    const cdf = this.#cdf;
    let lo = 0;
    let hi = cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((cdf[mid] as number) > x) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

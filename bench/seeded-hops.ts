/**
 * The deterministic tile population the online-read benchmarks share: a seeded LCG and
 * distinct recent hop indices, so bench/online-read.ts and bench/read-plan.ts read the same
 * shapes of data.
 *
 * @example
 * const { rnd, hops } = seededHops(Date.now());
 * hops(MINUTE_MS, 60, 30); // 30 distinct minute hops among the last 60, the current one first
 */
export function seededHops(
  now: number,
  seed = 42,
): {
  /** A pseudo-random integer in `[0, n)`. */
  rnd: (n: number) => number;
  /** `count` distinct hop indices among the last `span` hops up to `now` (the current first). */
  hops: (hopMs: number, span: number, count: number) => number[];
} {
  let s = seed;
  const rnd = (n: number): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 8) % n;
  };
  const hops = (hopMs: number, span: number, count: number): number[] => {
    const last = Math.floor(now / hopMs);
    const set = new Set<number>([last]);
    while (set.size < count) set.add(last - rnd(span));
    return [...set];
  };
  return { rnd, hops };
}

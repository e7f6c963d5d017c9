/** Per-key token buckets: `rate` tokens a second, bursts of up to `rate`. */
export class RateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  readonly #clock: () => number;

  constructor(clock: () => number = () => performance.now()) {
    this.#clock = clock;
  }

  /**
   * Takes one token for `id`; returns 0 when allowed, else the seconds to wait (for Retry-After).
   *
   * @example
   * limiter.take('key1', 10); // 0 → allowed
   */
  take(id: string, rate: number): number {
    const now = this.#clock();
    let b = this.#buckets.get(id);
    if (!b) {
      b = { tokens: rate, at: now };
      this.#buckets.set(id, b);
    }
    b.tokens = Math.min(rate, b.tokens + ((now - b.at) / 1000) * rate);
    b.at = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / rate));
  }
}

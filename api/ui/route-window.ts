/**
 * Request rate and latency per route over the last 60 seconds, for the dashboard: a ring of
 * one-second slots per route, each slot a count, an error count and a log-scale latency
 * histogram (buckets 20% apart, so p50 / p99 are within ±10%). Memory is fixed per route
 * whatever the request rate.
 */
const SLOTS = 60;
const GROWTH = 1.2;
const MIN_MS = 0.01;
const BUCKETS = 90; // 0.01 ms · 1.2^89 ≈ 113 s

interface Slot {
  second: number;
  count: number;
  errors: number;
  hist: Uint32Array;
}

const bucketOf = (ms: number): number =>
  ms <= MIN_MS ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(ms / MIN_MS) / Math.log(GROWTH)));

/** Upper bound of a bucket, in ms. */
const boundOf = (b: number): number => MIN_MS * GROWTH ** b;

export interface RouteStats {
  method: string;
  route: string;
  /** Requests in the window. */
  count: number;
  /** Responses with status >= 500 in the window. */
  errors: number;
  /** Requests per second over the window. */
  rps: number;
  p50Ms: number | null;
  p99Ms: number | null;
}

/**
 * @example
 * const w = new RouteWindow();
 * w.observe('POST', '/get-online-features', 200, 0.8);
 * w.stats(); // [{ route: '/get-online-features', count: 1, rps: 1/60, p50Ms: ~0.8, ... }]
 */
export class RouteWindow {
  readonly #routes = new Map<string, Slot[]>();

  /** Records one response (`ms` = server time) at wall-clock `now`. */
  observe(method: string, route: string, status: number, ms: number, now = Date.now()): void {
    const key = `${method} ${route}`;
    let ring = this.#routes.get(key);
    if (!ring) {
      ring = Array.from({ length: SLOTS }, () => ({
        second: -1,
        count: 0,
        errors: 0,
        hist: new Uint32Array(BUCKETS),
      }));
      this.#routes.set(key, ring);
    }
    const second = Math.floor(now / 1000);
    const slot = ring[second % SLOTS]!;
    if (slot.second !== second) {
      slot.second = second;
      slot.count = 0;
      slot.errors = 0;
      slot.hist.fill(0);
    }
    slot.count++;
    if (status >= 500) slot.errors++;
    slot.hist[bucketOf(ms)]!++;
  }

  /** Per-route stats over the 60 s before `now`, busiest route first. */
  stats(now = Date.now()): RouteStats[] {
    const current = Math.floor(now / 1000);
    const out: RouteStats[] = [];
    for (const [key, ring] of this.#routes) {
      const hist = new Uint32Array(BUCKETS);
      let count = 0;
      let errors = 0;
      for (const s of ring) {
        if (s.second <= current - SLOTS || s.second > current) continue;
        count += s.count;
        errors += s.errors;
        for (let b = 0; b < BUCKETS; b++) hist[b]! += s.hist[b]!;
      }
      const space = key.indexOf(' ');
      out.push({
        method: key.slice(0, space),
        route: key.slice(space + 1),
        count,
        errors,
        rps: count / SLOTS,
        p50Ms: quantile(hist, count, 0.5),
        p99Ms: quantile(hist, count, 0.99),
      });
    }
    return out.sort((a, b) => b.count - a.count || a.route.localeCompare(b.route));
  }
}

/** The q-quantile of a histogram: the geometric middle of the bucket holding it. */
function quantile(hist: Uint32Array, count: number, q: number): number | null {
  if (count === 0) return null;
  const rank = Math.ceil(q * count);
  let seen = 0;
  for (let b = 0; b < BUCKETS; b++) {
    seen += hist[b]!;
    if (seen >= rank) return b === 0 ? MIN_MS : Math.sqrt(boundOf(b - 1) * boundOf(b));
  }
  return boundOf(BUCKETS - 1);
}

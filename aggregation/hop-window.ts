/**
 * Hopping-window arithmetic, in epoch milliseconds. A window of length `W` with hop `H`
 * (`W` a positive multiple of `H`; the registry further requires whole minutes) evaluated at
 * time `t` covers `windowStart(t) <= ts <= t`: the current, partial hop plus the `W/H - 1`
 * whole hops before it. Events are stored as one partial state ("tile") per hop index.
 *
 * @example
 * // W = 1h, H = 1m, read at 10:30:15 → covers 09:31:00.000 … 10:30:15.000, hops 09:31 … 10:30
 * windowHops(t, HOUR_MS, MINUTE_MS) // { first: hopIndex(09:31), last: hopIndex(10:30) }
 */

/** Throws a RangeError unless `H` is a positive integer and `W` a positive multiple of it. */
export function assertWindow(windowMs: number, hopMs: number): void {
  if (!Number.isSafeInteger(hopMs) || hopMs <= 0) {
    throw new RangeError(`hop must be a positive whole number of ms, got ${hopMs}`);
  }
  if (!Number.isSafeInteger(windowMs) || windowMs <= 0 || windowMs % hopMs !== 0) {
    throw new RangeError(
      `window ${windowMs} ms must be a positive multiple of the hop ${hopMs} ms`,
    );
  }
}

/** The hop an instant falls in: `floor(ts / H)` (hop `k` spans `[k*H, (k+1)*H)`). */
export function hopIndex(ts: number, hopMs: number): number {
  return Math.floor(ts / hopMs);
}

/** The hop indices whose tiles a read at `t` combines: `c - W/H + 1 … c`, with `c = floor(t/H)`. */
export function windowHops(
  t: number,
  windowMs: number,
  hopMs: number,
): { first: number; last: number } {
  assertWindow(windowMs, hopMs);
  const last = hopIndex(t, hopMs);
  return { first: last - windowMs / hopMs + 1, last };
}

/** The earliest timestamp a read at `t` covers: `(c - W/H + 1) * H`. */
export function windowStart(t: number, windowMs: number, hopMs: number): number {
  assertWindow(windowMs, hopMs);
  return windowStartUnchecked(t, windowMs, hopMs);
}

/**
 * {@link windowStart} without re-validating the window: for hot loops that call
 * {@link assertWindow} once for a feature and then evaluate millions of reads.
 */
export function windowStartUnchecked(t: number, windowMs: number, hopMs: number): number {
  return (hopIndex(t, hopMs) - windowMs / hopMs + 1) * hopMs;
}

/** Whether an event at `ts` counts in a read at `t`: `windowStart(t) <= ts <= t`. */
export function inWindow(ts: number, t: number, windowMs: number, hopMs: number): boolean {
  return windowStart(t, windowMs, hopMs) <= ts && ts <= t;
}

/**
 * When the tile of hop `k` may be deleted: `(k + W/H) * H + H`, i.e. one window plus one hop
 * after the hop starts (`k*H + W + H`).
 *
 * A read at `t` uses hop `k` iff `c - W/H + 1 <= k <= c`, so the last read that needs the tile
 * is at `(k + W/H) * H - 1`; from `(k + W/H) * H` on it is never needed again. The extra hop is
 * deliberate slack (a TTL set a little late, a read pinned at a slightly earlier `t`, clock skew
 * between writers and readers): no read at or after the returned instant can use the tile.
 */
export function tileExpiresAt(k: number, windowMs: number, hopMs: number): number {
  assertWindow(windowMs, hopMs);
  return (k + windowMs / hopMs) * hopMs + hopMs;
}

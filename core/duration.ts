/** Durations in definitions are whole minutes, written as `'5m'`, `'1h'`, `'24h'`, `'7d'`, `'30d'`. */
export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

const UNIT_MS: Record<string, number> = { m: MINUTE_MS, h: HOUR_MS, d: DAY_MS };

export type Duration = `${number}${'m' | 'h' | 'd'}`;

/** Parses `'90m'` / `'1h'` / `'7d'` into milliseconds; returns an error message for anything else. */
export function parseDuration(text: string): number | { error: string } {
  const m = /^(\d+)([mhd])$/.exec(text.trim());
  if (!m)
    return {
      error: `"${text}" is not a duration; write whole minutes, hours or days like "5m", "1h", "7d"`,
    };
  const n = Number(m[1]);
  if (n <= 0) return { error: `"${text}" must be positive` };
  return n * (UNIT_MS[m[2] as string] as number);
}

/** Formats milliseconds back into the shortest exact unit: 86400000 → `'1d'`. */
export function formatDuration(ms: number): string {
  if (ms % DAY_MS === 0) return `${ms / DAY_MS}d`;
  if (ms % HOUR_MS === 0) return `${ms / HOUR_MS}h`;
  if (ms % MINUTE_MS === 0) return `${ms / MINUTE_MS}m`;
  return `${ms}ms`;
}

/** The spec's default hop for a window: W ≤ 1h → 1m; 1h < W ≤ 7d → 1h; W > 7d → 1d. */
export function defaultHopMs(windowMs: number): number {
  if (windowMs <= HOUR_MS) return MINUTE_MS;
  if (windowMs <= 7 * DAY_MS) return HOUR_MS;
  return DAY_MS;
}

/**
 * The shape of traffic over time: a diurnal cycle peaking at 20:00 UTC (4× the 08:00 trough)
 * and 15% more traffic on weekends.
 */
const HOUR = 3_600_000;
const DAY = 86_400_000;

/** Relative traffic intensity at epoch-ms `ts` (mean ≈ 1 over a week). */
export function trafficWeight(ts: number): number {
  const hour = (((ts % DAY) + DAY) % DAY) / HOUR;
  const diurnal = 1 + 0.6 * Math.cos((2 * Math.PI * (hour - 20)) / 24);
  const weekday = (Math.floor(ts / DAY) + 4) % 7; // 1970-01-01 was a Thursday; 0 = Sunday
  return weekday === 0 || weekday === 6 ? diurnal * 1.15 : diurnal;
}

/** Number, duration and time formatting for the dashboard (en-US, UTC). */
const nf = new Intl.NumberFormat('en-US');
const DASH = '—';

export const int = (n) => (n === null || n === undefined ? DASH : nf.format(Math.round(n)));

export const num = (n, digits = 2) =>
  n === null || n === undefined
    ? DASH
    : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

export const pct = (x) => (x === null || x === undefined ? DASH : `${(x * 100).toFixed(1)} %`);

/** Latency: 0.42 ms, 12.3 ms, 1.20 s. */
export function ms(v) {
  if (v === null || v === undefined) return DASH;
  if (v < 1) return `${v.toFixed(2)} ms`;
  if (v < 1000) return `${v.toFixed(1)} ms`;
  return `${(v / 1000).toFixed(2)} s`;
}

/** An age: 4 s, 3 min 12 s, 2 h 5 min, 3 d 4 h. */
export function age(v) {
  if (v === null || v === undefined) return DASH;
  if (v < 0) return `in ${age(-v)}`;
  const s = Math.floor(v / 1000);
  if (s < 1) return '< 1 s';
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** A window, hop or TTL: 5m, 1h, 7d. */
export function span(v) {
  if (v === null || v === undefined) return DASH;
  const units = [
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'm'],
    [1000, 's'],
  ];
  for (const [size, unit] of units)
    if (v % size === 0 && (unit !== 'd' || v >= 2 * size)) return `${v / size}${unit}`;
  return `${v}ms`;
}

/** Epoch ms → `2026-01-01 11:58:00 UTC`. */
export const time = (t) =>
  t === null || t === undefined
    ? DASH
    : `${new Date(t).toISOString().slice(0, 19).replace('T', ' ')} UTC`;

/** Epoch ms → `11:58` (UTC), for chart axes. */
export const hhmm = (t) => new Date(t).toISOString().slice(11, 16);

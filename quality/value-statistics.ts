/**
 * The statistics of feature values computed in memory (a view's features over a time grid, as
 * the export returns them), in the shape and with the semantics of the offline stores' SQL
 * (`offline/statistics/source-statistics.ts`): nulls counted apart, distinct non-null values,
 * min/max/mean/nearest-rank quantiles and equal-width histograms of numbers, the ten most
 * frequent strings and booleans. A list value counts as one non-null value of its own (its
 * JSON text), without numeric statistics.
 */
import type { FeatureValue, ValueType } from '../core/types.ts';
import { STATISTICS_QUANTILES, type ValueStatistics } from '../offline/offline-store.ts';

export function valueStatistics(
  name: string,
  type: ValueType,
  values: readonly (FeatureValue | null | undefined)[],
  opts: { bins?: number; allowed?: readonly (string | number | boolean)[] } = {},
): ValueStatistics {
  const present = values.filter((v): v is FeatureValue => v !== null && v !== undefined);
  const key = (v: FeatureValue): string => (Array.isArray(v) ? JSON.stringify(v) : String(v));
  const stats: ValueStatistics = {
    name,
    type,
    rows: values.length,
    nulls: values.length - present.length,
    distinct: new Set(present.map(key)).size,
    min: null,
    max: null,
    mean: null,
    quantiles: [],
    histogram: [],
    top: [],
  };
  if (opts.allowed) {
    const allowed = new Set(opts.allowed);
    stats.notAllowed = present.filter((v) => !allowed.has(v as string | number | boolean)).length;
  }
  if (type === 'int64' || type === 'float64') {
    const xs = (present as number[]).slice().sort((a, b) => a - b);
    if (xs.length === 0) return stats;
    const min = xs[0]!;
    const max = xs[xs.length - 1]!;
    stats.min = min;
    stats.max = max;
    stats.mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    stats.quantiles = STATISTICS_QUANTILES.map((q) => ({
      q,
      value: xs[Math.max(0, Math.ceil(q * xs.length) - 1)]!,
    }));
    const n = max > min ? (opts.bins ?? 20) : 1;
    const width = (max - min) / n;
    const counts = new Array<number>(n).fill(0);
    for (const x of xs) counts[n === 1 ? 0 : Math.min(Math.floor((x - min) / width), n - 1)]! += 1;
    stats.histogram = counts.map((count, b) => ({
      lo: min + b * width,
      hi: b === n - 1 ? max : min + (b + 1) * width,
      count,
    }));
  } else if (type === 'string' || type === 'bool') {
    const counts = new Map<string, number>();
    for (const v of present) counts.set(key(v), (counts.get(key(v)) ?? 0) + 1);
    stats.top = [...counts]
      .map(([value, count]) => ({ value, count }))
      .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0))
      .slice(0, 10);
  }
  return stats;
}

/**
 * Many observations of one prom-client histogram series at once: the same bucket counts, count
 * and sum (added in the same order, so bit for bit) as one `observe` per value, without
 * prom-client's per-call cost (a labels object, the label check and the series' hash string per
 * value, ~300 ns). The stream worker observes each batch's freshness with it (5,000 values).
 * It writes prom-client's series table (`hashMap`, the layout of prom-client 15's
 * `lib/histogram.js`); test/streaming/observe-many.test.ts compares the exposition text with
 * one `observe` per value.
 */
import type { Histogram } from 'prom-client';

interface Series {
  labels: Record<string, string>;
  bucketValues: Record<number, number>;
  sum: number;
  count: number;
}

interface HistogramInternals {
  upperBounds: number[];
  bucketValues: Record<number, number>;
  hashMap: Record<string, Series>;
}

/**
 * Observes `values[i] / divisor` for every i (e.g. milliseconds in a histogram of seconds) on
 * the series `labels`; non-finite values throw before anything is counted, as `observe` would.
 *
 * @example
 * observeMany(metrics.freshness, { topic }, freshnessMs, 1000);
 */
export function observeMany<L extends string>(
  histogram: Histogram<L>,
  labels: Record<L, string>,
  values: readonly number[],
  divisor = 1,
): void {
  if (values.length === 0) return;
  const h = histogram as unknown as HistogramInternals;
  // A copy: V8 reads prom-client's frozen array of bounds several times slower.
  const bounds = h.upperBounds.slice();
  // Counted by bucket index first (a bucket's key in prom-client's table is its bound as a
  // string: converting a number to it per value would cost as much as this saves), and only
  // written once every value is known to be finite.
  const counts = new Array<number>(bounds.length).fill(0);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]! / divisor;
    if (!Number.isFinite(v)) throw new TypeError(`Value is not a valid number: ${v}`);
    if (i === 0) continue;
    for (let b = 0; b < bounds.length; b++)
      if (v <= bounds[b]!) {
        counts[b]!++;
        break;
      }
  }
  // The first value goes through prom-client itself: it checks the labels and creates the
  // series; the rest are added to its sum after it, in order, so the sum is the same to the
  // last bit.
  histogram.labels(labels).observe(values[0]! / divisor);
  const series = seriesOf(h, labels);
  let sum = series.sum;
  for (let i = 1; i < values.length; i++) sum += values[i]! / divisor;
  series.sum = sum;
  for (let b = 0; b < bounds.length; b++)
    if (counts[b]! > 0) series.bucketValues[bounds[b]!]! += counts[b]!;
  series.count += values.length - 1;
}

/** The series whose labels equal `labels` (it exists: one value was just observed on it). */
function seriesOf(h: HistogramInternals, labels: Record<string, string>): Series {
  for (const s of Object.values(h.hashMap)) {
    const names = Object.keys(s.labels);
    if (
      names.length === Object.keys(labels).length &&
      names.every((n) => String(s.labels[n]) === String(labels[n]))
    )
      return s;
  }
  throw new Error('observeMany: the histogram series was not found after an observation');
}

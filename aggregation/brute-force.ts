/**
 * The reference evaluator: the spec's "Window semantics" section transcribed as naively as
 * possible (filter the events, then reduce), independent of the aggregators and tiles. Tests and
 * the offline-store property tests compare every engine against it. Not for production use: it
 * rescans every event on every call.
 */
import type { AggregationParams, FeatureValue, Scalar } from '../core/types.ts';
import type { AggregationEvent, AggregationKind } from './aggregator.ts';
import { compareCodePoints } from './compare-code-points.ts';
import { compareScalars } from './compare-scalars.ts';

/**
 * Null, the non-finite numbers JSON records cannot carry, and numbers of magnitude above 1e300
 * (whose sums could overflow) are "no value" (docs/concepts.md "Nulls").
 */
function hasValue(e: AggregationEvent): e is AggregationEvent & { value: Scalar } {
  return e.value !== null && !(typeof e.value === 'number' && !(Math.abs(e.value) <= 1e300));
}

/** A `mode` weight above 1e300 in magnitude (or non-finite) is a null weight: the event is skipped. */
const weightOk = (e: AggregationEvent): boolean =>
  e.weight === undefined || Math.abs(e.weight) <= 1e300;

function numbers(kind: string, events: AggregationEvent[]): number[] {
  return events.map((e) => {
    if (typeof e.value !== 'number') throw new TypeError(`${kind} aggregates numbers`);
    return e.value;
  });
}

/** Newest first: greatest ts, then greatest id by code point, then greatest value. */
function newestFirst(
  a: AggregationEvent & { value: Scalar },
  b: AggregationEvent & { value: Scalar },
) {
  return b.ts - a.ts || compareCodePoints(b.id, a.id) || compareScalars(b.value, a.value);
}

/** The events of the window at `t`: `(floor(t/H) - W/H + 1) * H <= ts <= t`. */
function windowEvents(
  events: readonly AggregationEvent[],
  t: number,
  windowMs: number,
  hopMs: number,
): AggregationEvent[] {
  const start = (Math.floor(t / hopMs) - windowMs / hopMs + 1) * hopMs;
  return events.filter((e) => start <= e.ts && e.ts <= t);
}

/** `mode`'s total weight per value (as a string), added in event order. */
function modeTotals(
  present: readonly (AggregationEvent & { value: Scalar })[],
): Map<string, number> {
  const totals = new Map<string, number>();
  for (const e of present.filter(weightOk))
    totals.set(String(e.value), (totals.get(String(e.value)) ?? 0) + (e.weight ?? 1));
  return totals;
}

/**
 * `mode`'s total weight per value in the window at `t`, as {@link bruteForceWindow} ranks them:
 * what a judge needs to tell a wrong mode from a near tie that the order of float additions
 * decides (docs/definitions.md, `mode`).
 */
export function bruteForceModeTotals(
  events: readonly AggregationEvent[],
  t: number,
  windowMs: number,
  hopMs: number,
): Map<string, number> {
  return modeTotals(windowEvents(events, t, windowMs, hopMs).filter(hasValue));
}

/**
 * A windowed aggregation at `t` straight from the spec: keep events with
 * `(floor(t/H) - W/H + 1) * H <= ts <= t`, then count / sum / avg / min / max / last / mode /
 * count distinct / take the last n of them (`params`: `last_n`'s `n` and `distinct`).
 */
export function bruteForceWindow(
  kind: AggregationKind,
  events: readonly AggregationEvent[],
  t: number,
  windowMs: number,
  hopMs: number,
  params: AggregationParams = {},
): FeatureValue | null {
  const inWindow = windowEvents(events, t, windowMs, hopMs);
  if (kind === 'count') return inWindow.length;

  const present = inWindow.filter(hasValue);
  switch (kind) {
    case 'sum':
      return numbers(kind, present).reduce((s, v) => s + v, 0);
    case 'avg':
      if (present.length === 0) return null;
      return numbers(kind, present).reduce((s, v) => s + v, 0) / present.length;
    case 'min':
      return present.length === 0 ? null : present.map((e) => e.value).sort(compareScalars)[0]!;
    case 'max':
      return present.length === 0
        ? null
        : present.map((e) => e.value).sort((a, b) => compareScalars(b, a))[0]!;
    case 'last':
      return present.length === 0 ? null : [...present].sort(newestFirst)[0]!.value;
    case 'mode': {
      const ranked = [...modeTotals(present)].sort(([va, wa], [vb, wb]) =>
        wb !== wa ? wb - wa : compareCodePoints(va, vb),
      );
      return ranked.length === 0 ? null : ranked[0]![0];
    }
    case 'count_distinct':
      return new Set(present.map((e) => String(e.value))).size;
    case 'last_n': {
      const n = params.n ?? NaN;
      if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`last_n needs n, got ${n}`);
      const out: Scalar[] = [];
      for (const e of [...present].sort(newestFirst)) {
        if (out.length === n) break;
        if (params.distinct && out.some((v) => v === e.value)) continue;
        out.push(typeof e.value === 'number' ? e.value + 0 : e.value); // -0 → 0, as in JSON
      }
      return out;
    }
    default:
      throw new RangeError(`unknown aggregation "${String(kind)}"`);
  }
}

/**
 * A lifetime `last` feature at `t`: the newest non-null value among events with `ts <= t`
 * (ties as for `last`), or null when there is none or it is older than the TTL (`t - ts > ttl`).
 * The TTL is measured from that newest non-null event (what a `last` state can know).
 */
export function bruteForceLifetime(
  events: readonly AggregationEvent[],
  t: number,
  ttlMs: number,
): Scalar | null {
  const newest = events
    .filter((e) => e.ts <= t)
    .filter(hasValue)
    .sort(newestFirst)[0];
  if (newest === undefined || t - newest.ts > ttlMs) return null;
  return newest.value;
}

/**
 * Point-in-time feature values by a sweep: for every entity row `(key, t)` the value a read at
 * `t` returns, per the spec's window semantics (see `aggregation/hop-window.ts`), over
 * a {@link PassIndex}. Rows are grouped by key and sorted by time, so each window's bounds only
 * move forward: events enter as `t` passes them and leave as the window start passes them.
 * Linear in events + rows per feature, no sort of the events, no join. Row data is kept in
 * group order (sequential memory access); only the results are scattered back to row order.
 *
 * - `count`: prefix sums of its flags read at each row's bounds (shared by the pass's features:
 *   one past the last event `<= t`, and per window the first event `>= windowStart(t)`).
 *   `sum` / `avg`: a running compensated (double-double) sum, so
 *   adding and removing events leaves no rounding residue worth a bit of the result; an empty
 *   window is exactly 0 / null.
 * - `min` / `max`: a monotonic deque of the window's candidates.
 * - `last`: the latest counted event before the window's end (ties: greater id, then for a
 *   replayed id the greater value — `compareLast`); null once it falls out of the window, or for
 *   a lifetime feature once it is older than the view's TTL.
 * - `mode`: per value a count and a (double-double) weight over the window's items; the greatest
 *   weight among values present wins, ties → the smallest value (codes are sorted by code point).
 * - `count_distinct`: a per-value count of the window's events; the value is how many are present.
 * - `last_n`: per row, the window's events walked back from its newest (a run of replays of one
 *   (ts, id) greatest value first), skipping repeats when `distinct`, until n values; the result
 *   is a list per row ({@link SweepResult.lists}).
 *
 * @example
 * const out = sweepFeatures(index, [{ col: '__f0', aggregation: 'count', windowMs: HOUR_MS,
 *   hopMs: MINUTE_MS, ttlMs: null }], { codes, ts });
 * out.get('__f0') // { values: Float64Array (NaN = null), dict: null }
 */
import { assertWindow, windowStartUnchecked } from '../../aggregation/index.ts';
import type { AggregationKind } from '../../core/types.ts';
import type { ItemsColumn, PassIndex, ValuesColumn } from './pass-index.ts';
import type { SequenceKind } from '../../core/sequence.ts';
import { SequenceContext, sweepSequence, type SweepSequence } from './sweep-sequence.ts';
import { emptySequenceValue } from '../../aggregation/sequence-tiles.ts';

/** One feature to compute: its input column in the index, aggregation, window and TTL. */
export interface SweepFeature {
  col: string;
  aggregation: AggregationKind | SequenceKind;
  /** Sequence kinds only. */
  sequence?: SweepSequence;
  /** Window and hop in ms; both null for a lifetime `last`. */
  windowMs: number | null;
  hopMs: number | null;
  /** A lifetime value is null when `t - ts > ttlMs`; null for windowed features. */
  ttlMs: number | null;
  /** `last_n` only: how many values, and whether each value once. */
  n?: number;
  distinct?: boolean;
}

/** The entity rows of one pass: the key code per row (-1 = a key the index has no events for). */
export interface SweepRows {
  codes: Int32Array;
  ts: Float64Array;
}

/** A computed column in row order: NaN = null (feature values are never NaN). */
export interface SweepResult {
  values: Float64Array;
  /** Strings by code when the values are dictionary codes. */
  dict: string[] | null;
  /**
   * `last_n` only: per row (row order) its values newest first, as numbers or codes into
   * `dict`; empty for an empty window. `values` is then unused.
   */
  lists?: RowLists;
}

/** Lists in row order: row r's values are `items[offsets[r] … offsets[r+1]-1]`. */
export interface RowLists {
  offsets: Int32Array;
  items: Float64Array;
}

/** Rows grouped by key, sorted by time: `order[rowStart[k] … rowStart[k+1]-1]` are key k's. */
interface RowGroups {
  rowStart: Int32Array;
  order: Int32Array;
  /** Row times in group order: `t[i]` is row `order[i]`'s. */
  t: Float64Array;
  /** Keys that have rows, ascending. */
  keys: Int32Array;
}

/** Scratch for {@link sortPacked} (a sweep is synchronous). */
let packScratch = new Float64Array(0);

/**
 * Sorts one key's rows `[s, e)` (in row order) by time, ties in row order, with a native numeric
 * sort: each row packed as `(t - min) * n + i` (`i` its place in row order, `n` the rows), exact
 * when every time is an integer and `(max - min + 1) * n` stays below 2^53 — else false, and
 * nothing moved. A comparator sort of a key's hundreds of rows cost ~10× more.
 */
function sortPacked(order: Int32Array, t: Float64Array, s: number, e: number): boolean {
  const n = e - s;
  let min = Infinity;
  let max = -Infinity;
  for (let i = s; i < e; i++) {
    const x = t[i]!;
    if (!Number.isInteger(x)) return false;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  if ((max - min + 1) * n >= Number.MAX_SAFE_INTEGER) return false;
  if (packScratch.length < 2 * n) packScratch = new Float64Array(2 * n);
  const packed = packScratch.subarray(0, n);
  const rows = packScratch.subarray(n, 2 * n);
  for (let i = 0; i < n; i++) {
    packed[i] = (t[s + i]! - min) * n + i;
    rows[i] = order[s + i]!;
  }
  packed.sort();
  for (let j = 0; j < n; j++) {
    const p = packed[j]!;
    const i = p % n;
    order[s + j] = rows[i]!;
    t[s + j] = min + (p - i) / n;
  }
  return true;
}

function groupRows(rows: SweepRows, keyCount: number): RowGroups {
  const { codes, ts } = rows;
  const rowStart = new Int32Array(keyCount + 1);
  for (let r = 0; r < codes.length; r++) {
    const c = codes[r]!;
    if (c >= 0) rowStart[c + 1]!++;
  }
  let keysWithRows = 0;
  for (let k = 0; k < keyCount; k++) {
    if (rowStart[k + 1]! > 0) keysWithRows++;
    rowStart[k + 1]! += rowStart[k]!;
  }
  const fill = rowStart.slice(0, keyCount);
  const order = new Int32Array(rowStart[keyCount]!);
  const t = new Float64Array(order.length);
  for (let r = 0; r < codes.length; r++) {
    const c = codes[r]!;
    if (c < 0) continue;
    const i = fill[c]!++;
    order[i] = r;
    t[i] = ts[r]!;
  }
  const keys = new Int32Array(keysWithRows);
  let n = 0;
  for (let k = 0; k < keyCount; k++) {
    const s = rowStart[k]!;
    const e = rowStart[k + 1]!;
    if (e === s) continue;
    keys[n++] = k;
    if (e - s <= 64) {
      // Insertion sort by time; stable, so equal times keep row order.
      for (let i = s + 1; i < e; i++) {
        const r = order[i]!;
        const x = t[i]!;
        let j = i - 1;
        while (j >= s && t[j]! > x) {
          order[j + 1] = order[j]!;
          t[j + 1] = t[j]!;
          j--;
        }
        order[j + 1] = r;
        t[j + 1] = x;
      }
    } else if (!sortPacked(order, t, s, e)) {
      const idx = Array.from({ length: e - s }, (_, i) => s + i).sort(
        (a, b) => t[a]! - t[b]! || order[a]! - order[b]!,
      );
      const o = idx.map((i) => order[i]!);
      const x = idx.map((i) => t[i]!);
      order.set(o, s);
      t.set(x, s);
    }
  }
  return { rowStart, order, t, keys };
}

/**
 * A zeroed `Float64Array` of `n` values in shared memory. V8 counts the ArrayBuffers an isolate
 * allocates or receives as external memory and starts a full GC of the isolate's heap per ~64 MB
 * of it; shared memory is not counted. An export's result columns (8 MB per feature per 1M rows)
 * cost the main thread a full GC per eight of them as ArrayBuffers.
 */
export const sharedFloat64 = (n: number): Float64Array =>
  new Float64Array(new SharedArrayBuffer(n * Float64Array.BYTES_PER_ELEMENT));

/**
 * Computes `features` for `rows` over `index`. Rows whose key code is -1 get the empty-window
 * value (0 for count and sum, null otherwise).
 */
export function sweepFeatures(
  index: PassIndex,
  features: readonly SweepFeature[],
  rows: SweepRows,
): Map<string, SweepResult> {
  const g = groupRows(rows, index.keyCount);
  const bounds = new Bounds(index, g);
  const out = new Map<string, SweepResult>();
  let prefix: Int32Array | null = null;
  let sequences: SequenceContext | null = null;
  for (const f of features) {
    const column = index.columns.get(f.col);
    if (!column) throw new Error(`sweep: no input column ${f.col} in the index`);
    const n = rows.codes.length;
    const res: SweepResult = {
      // In shared memory: handed to the main thread without a copy, and outside V8's count of
      // external memory (see `sharedFloat64`).
      values: sharedFloat64(n),
      // A distinct count is a number even of a dictionary-coded input.
      dict: column.kind === 'flags' || f.aggregation === 'count_distinct' ? null : column.dict,
    };
    if (f.sequence) {
      if (column.kind !== 'values')
        throw new Error(`sweep: ${f.aggregation} needs a values column`);
      const kind = f.aggregation as SequenceKind;
      if (emptySequenceValue(kind) === null) res.values.fill(NaN);
      res.dict = null;
      sequences ??= new SequenceContext(index, g, bounds.hi(), (w, h) => bounds.lo(w, h));
      sweepSequence(sequences, column.values, kind, f.windowMs, f.hopMs, f.sequence, res.values);
      out.set(f.col, res);
      continue;
    }
    if (f.aggregation !== 'count' && f.aggregation !== 'sum') res.values.fill(NaN);
    const kindError = (): Error =>
      new Error(`sweep: ${f.aggregation} of ${f.col} cannot read a ${column.kind} column`);
    switch (f.aggregation) {
      case 'count': {
        if (column.kind !== 'flags') throw kindError();
        const { w, h } = windowOf(f);
        prefix ??= new Int32Array(widestKey(index, g) + 1);
        sweepCount(index, g, bounds.hi(), bounds.lo(w, h), column.flags, prefix, res);
        break;
      }
      case 'sum':
      case 'avg':
        if (column.kind !== 'values') throw kindError();
        sweepSum(index, g, column.values, f, res);
        break;
      case 'min':
      case 'max':
        if (column.kind !== 'values') throw kindError();
        sweepExtreme(index, g, column.values, f, res);
        break;
      case 'last':
        if (column.kind !== 'values') throw kindError();
        sweepLast(index, g, bounds.hi(), column.values, f, res);
        break;
      case 'mode':
        if (column.kind !== 'items') throw kindError();
        sweepMode(g, column, f, res);
        break;
      case 'count_distinct':
        if (column.kind !== 'values') throw kindError();
        res.values.fill(0);
        if (column.dict) {
          const { w, h } = windowOf(f);
          sweepCountDistinct(index, g, bounds.hi(), bounds.lo(w, h), column, f, res);
        } else sweepCountDistinct(index, g, null, null, column, f, res);
        break;
      case 'last_n': {
        if (column.kind !== 'values') throw kindError();
        const { w, h } = windowOf(f);
        sweepLastN(index, g, bounds.hi(), bounds.lo(w, h), column, f, res);
        break;
      }
    }
    out.set(f.col, res);
  }
  return out;
}

/**
 * Per row (in group order), the event range a read covers, shared by the pass's features:
 * `hi()[i]` is one past the last event with `ts <= t`, `lo(W, H)[i]` the first event with
 * `ts >= windowStart(t)` (absolute indices into the index's events).
 */
class Bounds {
  #hi: Int32Array | null = null;
  readonly #lo = new Map<string, Int32Array>();
  readonly #index: PassIndex;
  readonly #g: RowGroups;

  constructor(index: PassIndex, g: RowGroups) {
    this.#index = index;
    this.#g = g;
  }

  hi(): Int32Array {
    if (this.#hi) return this.#hi;
    const { offsets, ts } = this.#index;
    const g = this.#g;
    const hi = new Int32Array(g.order.length);
    for (let ki = 0; ki < g.keys.length; ki++) {
      const k = g.keys[ki]!;
      const e = offsets[k + 1]!;
      let p = offsets[k]!;
      for (let i = g.rowStart[k]!; i < g.rowStart[k + 1]!; i++) {
        const t = g.t[i]!;
        if (p < e && ts[p]! <= t) {
          // Gallop from the previous bound, then binary search the last step.
          let from = p;
          let step = 1;
          while (from + step < e && ts[from + step]! <= t) {
            from += step;
            step *= 2;
          }
          let a = from + 1;
          let b = Math.min(from + step, e);
          while (a < b) {
            const m = (a + b) >>> 1;
            if (ts[m]! <= t) a = m + 1;
            else b = m;
          }
          p = a;
        }
        hi[i] = p;
      }
    }
    return (this.#hi = hi);
  }

  lo(w: number, h: number): Int32Array {
    const key = `${w}/${h}`;
    const known = this.#lo.get(key);
    if (known) return known;
    const hi = this.hi();
    const { offsets, ts } = this.#index;
    const g = this.#g;
    const lo = new Int32Array(g.order.length);
    for (let ki = 0; ki < g.keys.length; ki++) {
      const k = g.keys[ki]!;
      let p = offsets[k]!;
      for (let i = g.rowStart[k]!; i < g.rowStart[k + 1]!; i++) {
        const start = windowStartUnchecked(g.t[i]!, w, h);
        // Binary search between the previous row's bound and this row's end.
        let b = hi[i]!;
        while (p < b) {
          const m = (p + b) >>> 1;
          if (ts[m]! < start) p = m + 1;
          else b = m;
        }
        lo[i] = p;
      }
    }
    this.#lo.set(key, lo);
    return lo;
  }
}

/** The feature's window, validated once (reads then use `windowStartUnchecked`). */
function windowOf(f: SweepFeature): { w: number; h: number } {
  if (f.windowMs === null || f.hopMs === null)
    throw new Error(`sweep: ${f.aggregation} of ${f.col} needs a window`);
  assertWindow(f.windowMs, f.hopMs);
  return { w: f.windowMs, h: f.hopMs };
}

/**
 * `count`: per key, prefix sums of its flags up to its last row's bound (in a reused buffer the
 * size of the widest key, relative to the key's first event e0: `prefix[j - e0]` covers
 * e0 … j-1), read at each row's bounds. A prefix over every event of the pass wrote an array
 * of 4 bytes per event for each count and read it back at random, and summed the events of
 * keys without rows too.
 */
function sweepCount(
  index: PassIndex,
  g: RowGroups,
  hi: Int32Array,
  lo: Int32Array,
  flags: Uint8Array,
  prefix: Int32Array,
  res: SweepResult,
): void {
  const { offsets } = index;
  const out = res.values;
  const { keys, rowStart, order } = g;
  for (let ki = 0; ki < keys.length; ki++) {
    const k = keys[ki]!;
    const e0 = offsets[k]!;
    const r0 = rowStart[k]!;
    const r1 = rowStart[k + 1]!;
    // Rows are in time order: the last one's bound is the key's greatest.
    const end = hi[r1 - 1]!;
    let acc = 0;
    for (let j = e0; j < end; j++) prefix[j - e0 + 1] = acc += flags[j]!;
    for (let i = r0; i < r1; i++) out[order[i]!] = prefix[hi[i]! - e0]! - prefix[lo[i]! - e0]!;
  }
}

/** The most events a key with rows has. */
function widestKey(index: PassIndex, g: RowGroups): number {
  const { offsets } = index;
  let widest = 0;
  for (let ki = 0; ki < g.keys.length; ki++) {
    const k = g.keys[ki]!;
    widest = Math.max(widest, offsets[k + 1]! - offsets[k]!);
  }
  return widest;
}

/** What a sliding-window aggregation does as events enter and leave, and per row. */
interface Slide {
  /** Starts a key (its state is empty). */
  key(): void;
  enter(i: number): void;
  leave(i: number): void;
  /** The value for row `r` (row order) from the current window. */
  emit(r: number): void;
}

/**
 * Walks every key's events with a window `[windowStart(t), t]` per row (rows in time order, so
 * both bounds only move forward); events that entered are left again before the next key.
 */
function slideWindows(
  offsets: Int32Array,
  ts: Float64Array,
  g: RowGroups,
  f: SweepFeature,
  slide: Slide,
): void {
  const { w, h } = windowOf(f);
  for (let ki = 0; ki < g.keys.length; ki++) {
    const k = g.keys[ki]!;
    const e = offsets[k + 1]!;
    let lo = offsets[k]!;
    let hi = lo;
    slide.key();
    for (let i = g.rowStart[k]!; i < g.rowStart[k + 1]!; i++) {
      const t = g.t[i]!;
      while (hi < e && ts[hi]! <= t) slide.enter(hi++);
      const start = windowStartUnchecked(t, w, h);
      while (lo < hi && ts[lo]! < start) slide.leave(lo++);
      slide.emit(g.order[i]!);
    }
    while (lo < hi) slide.leave(lo++);
  }
}

/**
 * `sum` / `avg`: a double-double running sum (s + c, TwoSum), exact 0 / null when empty. The
 * window walk of {@link slideWindows}, written out: its calls through a `Slide` are megamorphic
 * (every aggregation passes its own), and sum and avg are the most common features.
 */
function sweepSum(
  index: PassIndex,
  g: RowGroups,
  values: Float64Array,
  f: SweepFeature,
  res: SweepResult,
): void {
  const avg = f.aggregation === 'avg';
  const out = res.values;
  const { offsets, ts } = index;
  const { w, h } = windowOf(f);
  for (let ki = 0; ki < g.keys.length; ki++) {
    const k = g.keys[ki]!;
    const e = offsets[k + 1]!;
    let lo = offsets[k]!;
    let hi = lo;
    let n = 0;
    let s = 0;
    let c = 0;
    for (let i = g.rowStart[k]!; i < g.rowStart[k + 1]!; i++) {
      const t = g.t[i]!;
      for (; hi < e && ts[hi]! <= t; hi++) {
        const x = values[hi]!;
        if (x === x) {
          const y = s + x;
          const bb = y - s;
          c += s - (y - bb) + (x - bb);
          s = y;
          n++;
        }
      }
      const start = windowStartUnchecked(t, w, h);
      for (; lo < hi && ts[lo]! < start; lo++) {
        const x = values[lo]!;
        if (x === x) {
          const y = s - x;
          const bb = y - s;
          c += s - (y - bb) + (-x - bb);
          s = y;
          if (--n === 0) s = c = 0;
        }
      }
      const r = g.order[i]!;
      if (avg) {
        if (n > 0) out[r] = (s + c) / n;
      } else out[r] = n > 0 ? s + c + 0 : 0;
    }
  }
}

/** `min` / `max`: a monotonic deque of the window's candidates (head = the answer). */
function sweepExtreme(
  index: PassIndex,
  g: RowGroups,
  values: Float64Array,
  f: SweepFeature,
  res: SweepResult,
): void {
  const { offsets } = index;
  const max = f.aggregation === 'max';
  const out = res.values;
  let widest = 0;
  for (let ki = 0; ki < g.keys.length; ki++) {
    const k = g.keys[ki]!;
    widest = Math.max(widest, offsets[k + 1]! - offsets[k]!);
  }
  const dq = new Int32Array(widest);
  let head = 0;
  let tail = 0;
  slideWindows(offsets, index.ts, g, f, {
    key: () => {
      head = tail = 0;
    },
    enter: (i) => {
      const x = values[i]!;
      if (x !== x) return;
      while (tail > head && (max ? values[dq[tail - 1]!]! <= x : values[dq[tail - 1]!]! >= x))
        tail--;
      dq[tail++] = i;
    },
    leave: (i) => {
      if (tail > head && dq[head] === i) head++;
    },
    emit: (r) => {
      if (tail > head) out[r] = values[dq[head]!]!;
    },
  });
}

/**
 * `last`: walks the key's events up to each row's bound keeping the winner (ties in (ts, id):
 * the greater value) — or, when no event is skipped or replayed, takes the last one before the
 * bound; a window then checks the winner is not older than the window start, a lifetime value
 * that it is within the TTL.
 */
function sweepLast(
  index: PassIndex,
  g: RowGroups,
  hi: Int32Array,
  values: Float64Array,
  f: SweepFeature,
  res: SweepResult,
): void {
  const lifetime = f.windowMs === null;
  const { w, h } = lifetime ? { w: 0, h: 1 } : windowOf(f);
  const ttl = f.ttlMs ?? Infinity;
  const { offsets, ts, dup } = index;
  const out = res.values;
  if (!hasReplays(index) && !hasSkipped(values)) {
    // Every event counts and none replays another: a row's winner is its last event.
    for (let ki = 0; ki < g.keys.length; ki++) {
      const k = g.keys[ki]!;
      const first = offsets[k]!;
      for (let i = g.rowStart[k]!; i < g.rowStart[k + 1]!; i++) {
        const cur = hi[i]! - 1;
        if (cur < first) continue;
        const t = g.t[i]!;
        const lts = ts[cur]!;
        if (lifetime ? t - lts <= ttl : lts >= windowStartUnchecked(t, w, h))
          out[g.order[i]!] = values[cur]!;
      }
    }
    return;
  }
  for (let ki = 0; ki < g.keys.length; ki++) {
    const k = g.keys[ki]!;
    let p = offsets[k]!;
    let cur = -1;
    // First event of the current run of (ts, id) duplicates.
    let run = p;
    for (let i = g.rowStart[k]!; i < g.rowStart[k + 1]!; i++) {
      const end = hi[i]!;
      for (; p < end; p++) {
        if (dup[p] === 0) run = p;
        const x = values[p]!;
        if (x === x && (cur < run || x > values[cur]!)) cur = p;
      }
      if (cur < 0) continue;
      const t = g.t[i]!;
      const lts = ts[cur]!;
      if (lifetime ? t - lts <= ttl : lts >= windowStartUnchecked(t, w, h)) {
        const r = g.order[i]!;
        out[r] = values[cur]!;
      }
    }
  }
}

const replays = new WeakMap<PassIndex, boolean>();

/** Whether any event of the index replays the one before it (same time and id). */
function hasReplays(index: PassIndex): boolean {
  let known = replays.get(index);
  if (known === undefined) {
    known = index.dup.includes(1);
    replays.set(index, known);
  }
  return known;
}

/** Whether any event is skipped (NaN: filtered out, or a null input). */
function hasSkipped(values: Float64Array): boolean {
  for (let i = 0; i < values.length; i++) if (values[i] !== values[i]) return true;
  return false;
}

/**
 * `mode`: per value a count and a weight over the window's items; among the values present
 * (count > 0) the greatest weight wins, ties → the smallest code (= value by code point).
 * Weights are double-double running sums (as `sum`'s), so an item leaving the window takes its
 * weight out exactly: a huge weight gone leaves the small ones that came with it.
 */
function sweepMode(g: RowGroups, items: ItemsColumn, f: SweepFeature, res: SweepResult): void {
  const { codes, weights } = items;
  const out = res.values;
  const counts = new Int32Array(items.dict.length);
  const sums = new Float64Array(items.dict.length);
  const comps = new Float64Array(items.dict.length); // low parts of the double-double sums
  const add = (c: number, x: number): void => {
    const s0 = sums[c]!;
    const y = s0 + x;
    const bb = y - s0;
    comps[c]! += s0 - (y - bb) + (x - bb);
    sums[c] = y;
  };
  const total = (c: number): number => sums[c]! + comps[c]! + 0;
  // Codes with a nonzero count, in no order (present[pos[c]] === c while counts[c] > 0).
  const present = new Int32Array(items.dict.length);
  const pos = new Int32Array(items.dict.length);
  let np = 0;
  slideWindows(items.offsets, items.ts, g, f, {
    key: () => {},
    enter: (i) => {
      const c = codes[i]!;
      if (counts[c]!++ === 0) {
        pos[c] = np;
        present[np++] = c;
      }
      add(c, weights[i]!);
    },
    leave: (i) => {
      const c = codes[i]!;
      add(c, -weights[i]!);
      if (--counts[c]! === 0) {
        sums[c] = comps[c] = 0;
        const p = pos[c]!;
        const moved = present[--np]!;
        present[p] = moved;
        pos[moved] = p;
      }
    },
    emit: (r) => {
      if (np === 0) return;
      let best = present[0]!;
      let bestTotal = total(best);
      for (let p = 1; p < np; p++) {
        const c = present[p]!;
        const t = total(c);
        if (t > bestTotal || (t === bestTotal && c < best)) {
          best = c;
          bestTotal = t;
        }
      }
      out[r] = best;
    },
  });
}

/**
 * `count_distinct`: per value the number of the window's events holding it; present = size.
 * Dictionary codes count in an array (every event leaves before the next key, so it is all
 * zeros again) over each row's bounds `[lo, hi)` (given for codes); numbers in a map. The
 * other aggregations that slide a window (min / max, mode, count_distinct of numbers) share
 * {@link slideWindows}.
 */
function sweepCountDistinct(
  index: PassIndex,
  g: RowGroups,
  hi: Int32Array | null,
  lo: Int32Array | null,
  column: ValuesColumn,
  f: SweepFeature,
  res: SweepResult,
): void {
  const { values, dict } = column;
  const out = res.values;
  if (dict && hi && lo) {
    // Per row the window [lo, hi) of the shared bounds: events enter and leave as it moves,
    // and when it moves past its previous end, the events in between are never touched (a
    // short window over rows days apart skips most of the key's events).
    const counts = new Int32Array(dict.length);
    const { offsets } = index;
    let present = 0;
    for (let ki = 0; ki < g.keys.length; ki++) {
      const k = g.keys[ki]!;
      let a = offsets[k]!;
      let b = a;
      for (let i = g.rowStart[k]!; i < g.rowStart[k + 1]!; i++) {
        const l = lo[i]!;
        const h = hi[i]!;
        if (l >= b) {
          for (; a < b; a++) {
            const x = values[a]!;
            if (x === x && --counts[x]! === 0) present--;
          }
          a = b = l;
        }
        for (; b < h; b++) {
          const x = values[b]!;
          if (x === x && counts[x]!++ === 0) present++;
        }
        for (; a < l; a++) {
          const x = values[a]!;
          if (x === x && --counts[x]! === 0) present--;
        }
        out[g.order[i]!] = present;
      }
      for (; a < b; a++) {
        const x = values[a]!;
        if (x === x && --counts[x]! === 0) present--;
      }
    }
    return;
  }
  const counts = new Map<number, number>(); // SameValueZero: -0 and 0 are one value
  slideWindows(index.offsets, index.ts, g, f, {
    key: () => counts.clear(),
    enter: (i) => {
      const x = values[i]!;
      if (x === x) counts.set(x, (counts.get(x) ?? 0) + 1);
    },
    leave: (i) => {
      const x = values[i]!;
      if (x !== x) return;
      const c = counts.get(x)! - 1;
      if (c === 0) counts.delete(x);
      else counts.set(x, c);
    },
    emit: (r) => {
      out[r] = counts.size;
    },
  });
}

/**
 * `last_n`: for each row, walks its window's events `[lo, hi)` from the newest, a run of
 * replays (same ts and id, `dup`) taken greatest value first, skipping nulls and, with
 * `distinct`, values already taken (dictionary codes: a per-code stamp; numbers: a set); stops
 * at n values. Only the events after the key's previous row's bound are walked: the rest of
 * the walk is the previous row's list (each value kept with the event it came from), cut at
 * the window start — the walk of `[lo, hiPrev)` takes the same values in the same order, the
 * first n of them (the values this row took from its new events skipped) are enough to fill
 * the list. The lists are gathered in group order into one growing array, then laid out in row
 * order ({@link RowLists}).
 */
function sweepLastN(
  index: PassIndex,
  g: RowGroups,
  hi: Int32Array,
  lo: Int32Array,
  column: ValuesColumn,
  f: SweepFeature,
  res: SweepResult,
): void {
  const n = f.n ?? 0;
  const distinct = f.distinct ?? false;
  const { values } = column;
  const rows = res.values.length;
  const { dup } = index;
  const { order } = g;
  // Group-order lists: row i's are items[start[i] … start[i+1]-1].
  const start = new Int32Array(order.length + 1);
  // Room for every row's n values at once (up to 256 MB): the pages never written are never
  // touched (growing the array by doubling copied it and faulted in every page it grew into).
  let items = new Float64Array(Math.min(order.length * n, 1 << 25));
  let len = 0;
  const dict = column.dict;
  const stamp = distinct && dict ? new Int32Array(dict.length).fill(-1) : null;
  const seen = new Set<number>();
  const run: number[] = [];
  // Where each of the previous row's values came from (a run's first event for a replayed
  // one), and the current row's: event indices, newest first.
  let prevAt = new Int32Array(n);
  let at = new Int32Array(n);
  // A row takes at most n values: room for them is made once per row, and the test of each
  // value is written out in the walk (a closure over the growing array cost a context load and
  // store per value).
  for (let ki = 0; ki < g.keys.length; ki++) {
    const k = g.keys[ki]!;
    // The previous row's bound and list (none yet: the walk goes down to the window start).
    let prevHi = -1;
    let prevStart = 0;
    for (let i = g.rowStart[k]!; i < g.rowStart[k + 1]!; i++) {
      start[i] = len;
      const first = lo[i]!;
      if (!stamp) seen.clear();
      if (len + n > items.length) {
        const grown = new Float64Array(Math.max(items.length * 2, len + n));
        grown.set(items.subarray(0, len));
        items = grown;
      }
      const end = len + n;
      // New events only; no run crosses `limit` (a row's bounds are times).
      const limit = prevHi > first ? prevHi : first;
      let m = 0;
      let p = hi[i]! - 1;
      while (len < end && p >= limit) {
        if (dup[p] === 0) {
          const x = values[p]!;
          if (x !== x) {
            p--;
            continue;
          }
          if (distinct) {
            if (stamp) {
              if (stamp[x] === i) {
                p--;
                continue;
              }
              stamp[x] = i;
            } else {
              if (seen.has(x)) {
                p--;
                continue;
              }
              seen.add(x);
            }
          }
          at[m++] = p--;
          items[len++] = x + 0;
          continue;
        }
        // The run of events sharing p's (ts, id): [s, p]. (Events before `limit` are older
        // than the window start or the previous row, so no run crosses it.)
        let s = p;
        while (s > limit && dup[s] === 1) s--;
        run.length = 0;
        for (let q = s; q <= p; q++) if (values[q]! === values[q]!) run.push(values[q]!);
        if (run.length > 1) run.sort((a, b) => b - a);
        for (let r = 0; len < end && r < run.length; r++) {
          const x = run[r]!;
          if (distinct) {
            if (stamp) {
              if (stamp[x] === i) continue;
              stamp[x] = i;
            } else {
              if (seen.has(x)) continue;
              seen.add(x);
            }
          }
          at[m++] = s;
          items[len++] = x + 0;
        }
        p = s - 1;
      }
      if (limit > first) {
        // The older events: the previous row's values still in the window, in its order.
        for (let q = prevStart, j = 0; len < end && q < start[i]!; q++, j++) {
          const from = prevAt[j]!;
          if (from < first) break;
          const x = items[q]!;
          if (distinct) {
            if (stamp) {
              if (stamp[x] === i) continue;
              stamp[x] = i;
            } else {
              if (seen.has(x)) continue;
              seen.add(x);
            }
          }
          at[m++] = from;
          items[len++] = x;
        }
      }
      prevHi = hi[i]!;
      prevStart = start[i]!;
      const t = prevAt;
      prevAt = at;
      at = t;
    }
  }
  start[order.length] = len;
  // Row order: rows of no key (or not grouped) have empty lists.
  const offsets = new Int32Array(rows + 1);
  for (let j = 0; j < order.length; j++) offsets[order[j]! + 1] = start[j + 1]! - start[j]!;
  for (let r = 0; r < rows; r++) offsets[r + 1]! += offsets[r]!;
  // A copy loop per row (at most n values): a subarray per row cost an allocation each.
  const out = new Float64Array(len);
  for (let j = 0; j < order.length; j++)
    for (let q = start[j]!, to = offsets[order[j]!]!; q < start[j + 1]!; q++) out[to++] = items[q]!;
  res.lists = { offsets, items: out };
}

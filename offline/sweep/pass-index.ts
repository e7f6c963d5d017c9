/**
 * The columnar event index a point-in-time sweep reads: one "pass" (the feature views sharing
 * a source, entity keys and filter) as typed arrays, its events grouped by entity key and
 * sorted by (timestamp, id) within a key.
 *
 * Entity keys are dense codes `0 … keyCount-1` (a dictionary kept by whoever built the index);
 * key `k`'s events are `offsets[k] … offsets[k+1]-1`. Each feature reads one input column,
 * already filtered by its `where` and the view's filter:
 * - `count`: `flags[i]` is 1 when event i counts;
 * - `sum`, `avg`, `min`, `max`, `last`: `values[i]` is the input as a number, NaN when the event
 *   is skipped (filtered out or null input); strings are codes into `dict`, which is sorted by
 *   code point, so comparing codes compares the strings; booleans are 0/1;
 * - `mode`: its own item list (one entry per array element for `orderItems[].category`), with a
 *   value code into the sorted `dict` and a weight.
 *
 * @example
 * // key 0 has two events, key 1 one:
 * { keyCount: 2, offsets: Int32Array.of(0, 2, 3), ts: Float64Array.of(10, 20, 15), dup: …,
 *   columns: new Map([['__f0', { kind: 'count', flags: Uint8Array.of(1, 0, 1) }]]) }
 */

/** A count's input: which events count. */
export interface FlagsColumn {
  kind: 'flags';
  flags: Uint8Array;
}

/** A numeric (or dictionary-coded string, or 0/1 boolean) input; NaN = skipped. */
export interface ValuesColumn {
  kind: 'values';
  values: Float64Array;
  /** Strings by code, sorted by code point; null for numbers and booleans. */
  dict: string[] | null;
}

/** The weighted items a `mode` reads, grouped by key like the events. */
export interface ItemsColumn {
  kind: 'items';
  offsets: Int32Array;
  ts: Float64Array;
  /** Value codes into `dict` (sorted by code point). */
  codes: Int32Array;
  weights: Float64Array;
  dict: string[];
}

export type SweepColumn = FlagsColumn | ValuesColumn | ItemsColumn;

/** The typed arrays an index is made of. */
export type IndexArray = Float64Array | Int32Array | Uint8Array;

export interface PassIndex {
  keyCount: number;
  /** `keyCount + 1` entries: key k's events are `offsets[k] … offsets[k+1]-1`. */
  offsets: Int32Array;
  /** Event time (ms), ascending within a key. */
  ts: Float64Array;
  /**
   * 1 when event i has the same timestamp and id as event i-1 (a replayed record): `last`
   * then breaks the tie by the greater value, as the aggregation library does.
   */
  dup: Uint8Array;
  /** Input column per pass feature column name. */
  columns: Map<string, SweepColumn>;
}

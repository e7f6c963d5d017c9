/**
 * The on-demand step of a typed export (the sweep engine's): the on-demand views' transforms
 * ({@link applyOnDemand}) over a range of rows of typed feature columns, block by block, into
 * typed output columns. One function for both places it runs: the main thread, and the sweep
 * workers (`sweep/on-demand-bundle.ts`), each over its own range of rows of the same columns in
 * shared memory.
 */
import type { ValueType } from '../../core/types.ts';
import type { OnDemandFeatureViewDef } from '../../definitions/dsl/on-demand.ts';
import { applyOnDemand } from './on-demand.ts';

/** An input feature column, NaN = null (strings as codes into `dict`; lists as row lists). */
export interface OnDemandInput {
  values: Float64Array;
  type: ValueType;
  dict: readonly string[] | null;
  lists?: { offsets: Int32Array; items: Float64Array } | undefined;
}

/** An output column: numbers (NaN = null; bools 0 / 1) into `values`, strings into `strings`. */
export interface OnDemandOutput {
  col: string;
  type: ValueType;
  /** Indexed by row (the whole export's rows). */
  values: Float64Array | null;
  /** Indexed by row minus the range's first row. */
  strings: (string | null)[] | null;
}

export interface OnDemandRows {
  views: ReadonlyMap<string, OnDemandFeatureViewDef>;
  odfvs: readonly string[];
  /** Internal column of each `view:feature` the views read or write. */
  columns: Readonly<Record<string, string>>;
  inputs: ReadonlyMap<string, OnDemandInput>;
  /** Request fields' values, indexed by row minus `from`. */
  request: Readonly<Record<string, readonly unknown[]>>;
  /** Each row's time (ms). */
  ts: Float64Array;
  outs: readonly OnDemandOutput[];
  from: number;
  to: number;
}

/**
 * Small blocks keep the transforms' per-block arrays in V8's young generation (8192 rows:
 * ~0.25 s faster over 1M rows than 65536, measured with bench:export). A range handed to a
 * worker starts at a multiple of it, so blocks (and the rows an error names) are the same
 * wherever a range runs.
 */
export const ON_DEMAND_BLOCK = 1 << 13;

/** Runs the views over rows `[from, to)`, writing `outs`; `progress` after each block. */
export function onDemandRows(req: OnDemandRows, progress?: (rowsDone: number) => void): void {
  const { from, to, outs, ts } = req;
  const columnOf = (view: string, feature: string): string => req.columns[`${view}:${feature}`]!;
  const repo = { onDemandViews: req.views };
  for (let off = from; off < to; off += ON_DEMAND_BLOCK) {
    const size = Math.min(ON_DEMAND_BLOCK, to - off);
    const cols: Record<string, unknown[]> = {};
    for (const [col, c] of req.inputs) cols[col] = jsValues(c, off, size);
    for (const [f, values] of Object.entries(req.request))
      cols[f] = values.slice(off - from, off - from + size);
    const t = new Array<number>(size);
    for (let i = 0; i < size; i++) t[i] = ts[off + i]!;
    // Checked and normalized by applyOnDemand: each value is null or of its feature's type.
    const res = applyOnDemand(repo, req.odfvs, cols, size, t, columnOf);
    for (const o of outs) {
      const vals = res[o.col]!;
      if (o.strings) {
        for (let i = 0; i < size; i++) o.strings[off - from + i] = vals[i] as string | null;
      } else {
        // NaN marks null in the encoder's columns; the rest are finite numbers or booleans.
        const into = o.values!;
        if (o.type === 'bool')
          for (let i = 0; i < size; i++) {
            const v = vals[i] as boolean | null;
            into[off + i] = v === null ? NaN : v ? 1 : 0;
          }
        else
          for (let i = 0; i < size; i++) {
            const v = vals[i] as number | null;
            into[off + i] = v === null ? NaN : v;
          }
      }
    }
    progress?.(off + size);
  }
}

/** Rows `off … off+size-1` of a typed column as JS values (what on-demand transforms read). */
function jsValues(c: OnDemandInput, off: number, size: number): unknown[] {
  const out = new Array<unknown>(size);
  if (c.lists) {
    // A list feature (last_n): each row's list, strings decoded ([] for an empty window).
    const strings = c.dict;
    const { offsets, items } = c.lists;
    for (let i = 0; i < size; i++) {
      const l: unknown[] = [];
      for (let j = offsets[off + i]!; j < offsets[off + i + 1]!; j++)
        l.push(strings ? strings[items[j]!] : items[j]!);
      out[i] = l;
    }
    return out;
  }
  // One loop per kind of value: the test for the kind is not repeated per value.
  const v = c.values;
  const strings = c.dict;
  if (strings)
    for (let i = 0; i < size; i++) {
      const x = v[off + i]!;
      out[i] = x !== x ? null : strings[x];
    }
  else if (c.type === 'bool')
    for (let i = 0; i < size; i++) {
      const x = v[off + i]!;
      out[i] = x !== x ? null : x !== 0;
    }
  else
    for (let i = 0; i < size; i++) {
      const x = v[off + i]!;
      out[i] = x !== x ? null : x;
    }
  return out;
}

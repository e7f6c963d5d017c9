/**
 * How a swept column becomes a column of the export's Parquet file, in a form the sweep workers
 * can apply themselves: an {@link OutputTemplate} (name, Parquet type, string dictionary) made
 * on the main thread before the sweep, filled with the sweep's arrays where they are computed.
 * A worker that encodes its own results (`SweepPool.sweepAndEncode`) first hands them over in
 * shared memory ({@link shareResults}), so the main thread can read them (the on-demand step)
 * while the worker encodes them.
 */
import type { AppendColumn } from '../parquet/append-columns.ts';
import type { RowLists, SweepResult } from './sweep.ts';

/** An output column without its values: what {@link fillTemplate} completes. */
export type OutputTemplate =
  | { name: string; type: 'int64' | 'float64' | 'bool' }
  /** Values are codes into `dict`. */
  | { name: string; type: 'string'; dict: readonly string[] }
  | {
      name: string;
      type: 'list';
      element: 'int64' | 'float64' | 'string';
      dict?: readonly string[];
    };

/** The output file's row groups and the result columns to encode for it (by result column). */
export interface EncodeRequest {
  groups: number[];
  columns: [string, OutputTemplate][];
}

/** The column `t` describes, with the values of `r` (lists for a list column). */
export function fillTemplate(
  t: OutputTemplate,
  r: { values: Float64Array; lists?: RowLists },
): AppendColumn {
  if (t.type === 'list') {
    if (!r.lists) throw new Error(`sweep: list column ${t.name} has no lists`);
    return { ...t, offsets: r.lists.offsets, items: r.lists.items };
  }
  if (t.type === 'string') return { name: t.name, type: 'string', codes: r.values, dict: t.dict };
  return { name: t.name, type: t.type, values: r.values };
}

/** A copy of `a` in shared memory (read by another thread in place). */
function shared<T extends Float64Array | Int32Array>(a: T): T {
  const copy = new (a.constructor as new (b: SharedArrayBuffer) => T)(
    new SharedArrayBuffer(a.byteLength),
  );
  copy.set(a);
  return copy;
}

/** `results` with every array copied into shared memory. */
export function shareResults(results: Map<string, SweepResult>): Map<string, SweepResult> {
  const out = new Map<string, SweepResult>();
  for (const [col, r] of results)
    out.set(col, {
      values: shared(r.values),
      dict: r.dict,
      ...(r.lists
        ? { lists: { offsets: shared(r.lists.offsets), items: shared(r.lists.items) } }
        : {}),
    });
  return out;
}

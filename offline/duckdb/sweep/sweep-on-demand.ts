/**
 * The sweep's on-demand step: the on-demand views' transforms (`export/on-demand.ts`) over
 * the swept typed columns, block by block, into typed output columns the Parquet writer
 * encodes (no SQL round trip, no row objects).
 */
import type { ExportRequest } from '../../offline-store.ts';
import { applyOnDemand } from '../../export/on-demand.ts';
import type { AppendColumn } from '../../parquet/append-columns.ts';
import { sharedFloat64 } from '../../sweep/sweep.ts';
import type { SweptColumn } from './sweep-passes.ts';

/** The on-demand views' output columns (named by internal column), over whole columns. */
export function sweepOnDemand(
  req: {
    repo: ExportRequest['repo'];
    odfvs: string[];
    requestFields: string[];
    total: number;
    columnOf: (view: string, feature: string) => string;
    progress: (phase: string, rowsDone: number, rowsTotal: number) => void;
  },
  swept: { columns: Map<string, SweptColumn>; ts: Float64Array },
  request: Record<string, unknown[]>,
): AppendColumn[] {
  const { total } = req;
  const specs = req.odfvs.flatMap((name) =>
    req.repo.onDemandViews
      .get(name)!
      .spec.features.map((f) => ({ col: req.columnOf(name, f.name), type: f.type })),
  );
  const outs = specs.map((s) => ({
    ...s,
    // In shared memory, outside V8's count of external memory (see `sharedFloat64`).
    values: s.type === 'string' ? null : sharedFloat64(total),
    strings: s.type === 'string' ? new Array<string | null>(total) : null,
  }));
  const inputs = new Set(
    req.odfvs.flatMap((name) =>
      Object.values(req.repo.onDemandViews.get(name)!.spec.inputs).flatMap((i) =>
        i.from === 'feature' ? [req.columnOf(i.view, i.feature)] : [],
      ),
    ),
  );
  // Small blocks keep the transforms' per-block arrays in V8's young generation (8192 rows:
  // ~0.25 s faster over 1M rows than 65536, measured with bench:export).
  const BLOCK = 1 << 13;
  for (let off = 0; off < total; off += BLOCK) {
    const size = Math.min(BLOCK, total - off);
    const cols: Record<string, unknown[]> = {};
    for (const col of inputs) cols[col] = jsValues(swept.columns.get(col)!, off, size);
    for (const f of req.requestFields) cols[f] = request[f]!.slice(off, off + size);
    const ts = new Array<number>(size);
    for (let i = 0; i < size; i++) ts[i] = swept.ts[off + i]!;
    // Checked and normalized by applyOnDemand: each value is null or of its feature's type.
    const res = applyOnDemand(req.repo, req.odfvs, cols, size, ts, req.columnOf);
    for (const o of outs) {
      const vals = res[o.col]!;
      if (o.strings) {
        for (let i = 0; i < size; i++) o.strings[off + i] = vals[i] as string | null;
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
    req.progress('on-demand features', off + size, total);
  }
  return outs.map((o): AppendColumn =>
    o.strings
      ? { name: o.col, type: 'string', strings: o.strings }
      : { name: o.col, type: o.type as 'int64' | 'float64' | 'bool', values: o.values! },
  );
}

/** Rows `off … off+size-1` of a swept column as JS values (what on-demand transforms read). */
function jsValues(c: SweptColumn, off: number, size: number): unknown[] {
  const out = new Array<unknown>(size);
  if (c.lists) {
    // A list feature (last_n): each row's list, strings decoded ([] for an empty window).
    const strings = c.dict?.strings;
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
  const strings = c.dict?.strings;
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

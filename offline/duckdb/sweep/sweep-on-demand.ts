/**
 * The sweep's on-demand step: the on-demand views' transforms (`export/on-demand.ts`) over
 * the swept typed columns, block by block, into typed output columns the Parquet writer
 * encodes (no SQL round trip, no row objects). Once every pass is swept the workers are idle:
 * they run it, each over its own range of the rows (`sweep/on-demand-job.ts`), while the main
 * thread encodes the last passes' columns; on the main thread when that cannot be done.
 */
import type { ExportRequest } from '../../offline-store.ts';
import {
  ON_DEMAND_BLOCK,
  onDemandRows,
  type OnDemandInput,
  type OnDemandOutput,
} from '../../export/on-demand-rows.ts';
import type { AppendColumn } from '../../parquet/append-columns.ts';
import type { SweepPool } from '../../sweep/sweep-pool.ts';
import type { OnDemandJob } from '../../sweep/on-demand-job.ts';
import { sharedFloat64 } from '../../sweep/sweep.ts';
import type { SweptColumn } from './sweep-passes.ts';

/**
 * Fewest rows for which the workers run the step: each loads the views' bundle (≈ 25 CPU-ms)
 * and compiles the step cold, which halving ≈ 0.3 CPU-µs of main-thread work per row pays for
 * only from a few hundred thousand rows.
 */
export const ON_DEMAND_WORKER_ROWS = 1 << 18;

export interface SweepOnDemandRequest {
  repo: ExportRequest['repo'];
  odfvs: string[];
  requestFields: string[];
  total: number;
  columnOf: (view: string, feature: string) => string;
  progress: (phase: string, rowsDone: number, rowsTotal: number) => void;
  /**
   * The sweep workers, with the bundle of the views they load (`sweep/on-demand-bundle.ts`;
   * null: none could be made); absent, the step runs on the main thread.
   */
  workers?: { pool: SweepPool; bundle: Promise<string | null>; minRows?: number };
}

/**
 * The on-demand views' output columns (named by internal column), over whole columns, and where
 * they were computed.
 */
export async function sweepOnDemand(
  req: SweepOnDemandRequest,
  swept: { columns: Map<string, SweptColumn>; ts: Float64Array },
  request: Record<string, unknown[]> | Promise<Record<string, unknown[]>>,
): Promise<{ columns: AppendColumn[]; on: 'workers' | 'main' }> {
  const { total } = req;
  const specs = req.odfvs.flatMap((name) =>
    req.repo.onDemandViews
      .get(name)!
      .spec.features.map((f) => ({ col: req.columnOf(name, f.name), type: f.type })),
  );
  const outs: OnDemandOutput[] = specs.map((s) => ({
    ...s,
    // In shared memory, outside V8's count of external memory (see `sharedFloat64`), and
    // written in place by the workers.
    values: s.type === 'string' ? null : sharedFloat64(total),
    strings: s.type === 'string' ? new Array<string | null>(total) : null,
  }));
  const columns: Record<string, string> = {};
  const inputs = new Map<string, OnDemandInput>();
  for (const name of req.odfvs) {
    const od = req.repo.onDemandViews.get(name)!;
    for (const f of od.spec.features) columns[`${name}:${f.name}`] = req.columnOf(name, f.name);
    for (const i of Object.values(od.spec.inputs)) {
      if (i.from !== 'feature') continue;
      const col = req.columnOf(i.view, i.feature);
      columns[`${i.view}:${i.feature}`] = col;
      const c = swept.columns.get(col)!;
      inputs.set(col, {
        values: c.values,
        type: c.type,
        dict: c.dict?.strings ?? null,
        ...(c.lists ? { lists: c.lists } : {}),
      });
    }
  }
  const req0 = await request;
  const rows = {
    views: req.repo.onDemandViews,
    odfvs: req.odfvs,
    columns,
    inputs,
    request: req0,
    ts: swept.ts,
    outs,
  };
  const done =
    req.workers &&
    total >= (req.workers.minRows ?? ON_DEMAND_WORKER_ROWS) &&
    (await onWorkers(req, rows, req.workers));
  if (!done)
    onDemandRows({ ...rows, from: 0, to: total }, (d) =>
      req.progress('on-demand features', d, total),
    );
  const written = outs.map((o): AppendColumn =>
    o.strings
      ? { name: o.col, type: 'string', strings: o.strings }
      : { name: o.col, type: o.type as 'int64' | 'float64' | 'bool', values: o.values! },
  );
  return { columns: written, on: done ? 'workers' : 'main' };
}

const shared = (a: { buffer: ArrayBufferLike }): boolean => a.buffer instanceof SharedArrayBuffer;

/**
 * The step on the workers, one range of rows each (starting at a block boundary); false when
 * it cannot run there (no bundle, an input not in shared memory) or a worker failed — the main
 * thread then runs it all again, so a failing transform's error is the one it always was.
 */
async function onWorkers(
  req: SweepOnDemandRequest,
  rows: Omit<OnDemandJob, 'from' | 'to' | 'specs' | 'inputs' | 'odfvs'> & {
    inputs: Map<string, OnDemandInput>;
    odfvs: string[];
  },
  workers: NonNullable<SweepOnDemandRequest['workers']>,
): Promise<boolean> {
  const { pool } = workers;
  if (pool.mode !== 'workers' || pool.size < 2) return false;
  const inputs = [...rows.inputs];
  if (
    !shared(rows.ts) ||
    !inputs.every(
      ([, c]) =>
        shared(c.values) && (!c.lists || (shared(c.lists.offsets) && shared(c.lists.items))),
    )
  )
    return false;
  if ((await workers.bundle) === null) return false;
  const { total } = req;
  const specs = Object.fromEntries(
    req.odfvs.map((name) => [name, JSON.stringify(req.repo.onDemandViews.get(name)!.spec)]),
  );
  const blocks = Math.ceil(total / ON_DEMAND_BLOCK);
  const ranges = Array.from({ length: pool.size }, (_, w) => [
    Math.min(total, Math.round((blocks * w) / pool.size) * ON_DEMAND_BLOCK),
    Math.min(total, Math.round((blocks * (w + 1)) / pool.size) * ON_DEMAND_BLOCK),
  ]);
  let rowsDone = 0;
  try {
    const results = await Promise.all(
      ranges.map(async ([from, to]) => {
        const request: Record<string, unknown[]> = {};
        for (const [f, v] of Object.entries(rows.request)) request[f] = v.slice(from, to);
        const strings = await pool.onDemand({
          odfvs: rows.odfvs,
          specs,
          columns: rows.columns,
          inputs,
          request,
          ts: rows.ts,
          // String outputs come back (the numbers are written in shared memory).
          outs: rows.outs.map((o) => ({ ...o, strings: null })),
          from: from!,
          to: to!,
        });
        rowsDone += to! - from!;
        req.progress('on-demand features', rowsDone, total);
        return strings;
      }),
    );
    ranges.forEach(([from], w) => {
      let s = 0;
      for (const o of rows.outs) {
        if (!o.strings) continue;
        const part = results[w]![s++]!;
        for (let i = 0; i < part.length; i++) o.strings[from! + i] = part[i]!;
      }
    });
    return true;
  } catch {
    return false;
  }
}

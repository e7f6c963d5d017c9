/**
 * The embedded store's point-in-time engine: for each pass, DuckDB builds the event index
 * (partition by partition) and codes the entity rows' keys; the sweep computes every feature of
 * the pass for every row. The result is one Float64Array per feature column in entity-row order,
 * NaN for null (strings as codes into a dictionary that is also a DuckDB table, so SQL can
 * decode them when writing the output).
 */
import type { AggregationKind, ValueType } from '../../../registry/types.ts';
import { sweepFeatures, type SweepFeature } from '../../sweep/sweep.ts';
import type { DuckDBClient } from '../duckdb-client.ts';
import type { Pass } from '../sql/feature-pass.ts';
import { buildPassIndex, planPass, rowCodes, type ValueDict } from './build-pass-index.ts';

/** A feature column of the export, NaN = null. */
export interface SweptColumn {
  values: Float64Array;
  type: ValueType;
  aggregation: AggregationKind;
  /** When the values are string codes: the strings, and the DuckDB table `(v, __code)`. */
  dict: ValueDict | null;
}

export interface SweepPassesRequest {
  client: DuckDBClient;
  passes: readonly Pass[];
  entTable: string;
  rows: number;
  /** Fresh temp-table names. */
  name: (prefix: string) => string;
  /** Most events one partition's index holds. */
  partitionEvents: number;
  /** Rows done across passes (pass by pass, partition by partition). */
  onProgress?: (done: number) => void;
}

export interface SweepPassesResult {
  columns: Map<string, SweptColumn>;
  /** Each entity row's time (ms), in row order. */
  ts: Float64Array;
}

export async function sweepPasses(req: SweepPassesRequest): Promise<SweepPassesResult> {
  const { client, rows } = req;
  const columns = new Map<string, SweptColumn>();
  let ts: Float64Array | null = null;
  let done = 0;
  for (const pass of req.passes) {
    const plan = await planPass(client, pass, req.name, req.partitionEvents);
    const entity = await rowCodes(client, pass, plan, req.entTable);
    ts ??= entity.ts;
    const feats: SweepFeature[] = pass.features.map((pf) => ({
      col: pf.col,
      aggregation: pf.feature.aggregation,
      windowMs: pf.feature.windowMs,
      hopMs: pf.feature.hopMs,
      ttlMs: pf.feature.windowMs === null ? pf.view.ttlMs : null,
    }));
    const out = new Map<string, Float64Array>();
    for (const pf of pass.features) {
      const kind = pf.feature.aggregation;
      const empty = kind === 'count' || kind === 'sum' ? 0 : NaN;
      out.set(pf.col, new Float64Array(rows).fill(empty));
      columns.set(pf.col, {
        values: out.get(pf.col)!,
        type: pf.feature.type,
        aggregation: kind,
        dict: plan.dicts.get(pf.col) ?? null,
      });
    }
    const single = plan.partitions.length === 1;
    for (const part of plan.partitions) {
      const index = await buildPassIndex(client, pass, plan, part);
      const codes = single ? entity.codes : shift(entity.codes, part.from, part.to);
      const res = sweepFeatures(index, feats, { codes, ts: entity.ts });
      for (const [col, r] of res) {
        const into = out.get(col)!;
        const { values, valid } = r;
        for (let i = 0; i < rows; i++) if (valid[i] && codes[i]! >= 0) into[i] = values[i]!;
      }
      done += Math.round((rows * (part.to - part.from)) / Math.max(1, plan.keyCount));
      req.onProgress?.(done);
    }
  }
  return { columns, ts: ts ?? new Float64Array(rows) };
}

/** Codes of one partition `[from, to)`, relative to `from`; -1 outside it. */
function shift(codes: Int32Array, from: number, to: number): Int32Array {
  const out = new Int32Array(codes.length);
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i]!;
    out[i] = c >= from && c < to ? c - from : -1;
  }
  return out;
}

/**
 * The serialized form of a batch view (registry kind `batch_view`): a SQL query over a batch
 * source, run as a snapshot at fixed times D, returning one row per entity. See
 * docs/definitions.md "Batch views" for the semantics and the query's portable SQL.
 */
import type { ExprNode } from '../expr/expr.ts';
import type { ValueType } from '../../core/types.ts';
import type { MaterializationSpec } from '../materialization-spec.ts';

export interface BatchViewFeatureSpec {
  name: string;
  type: ValueType;
  description: string;
}

export interface BatchViewSpec {
  kind: 'batch_view';
  name: string;
  entities: string[];
  /** A stream, push or batch source name; the snapshot reads its batch source. */
  source: string;
  /**
   * The columns of the relation `source` the query reads, as expressions over the source
   * record (rendered for each offline store like a feature view's); `ts` (the event time in
   * epoch ms) is always there too.
   */
  columns: Record<string, ExprNode>;
  /** Only records matching this are in the relation. */
  filter: ExprNode | null;
  /** The snapshot at D reads records with `D − windowMs <= ts < D`; null: every `ts < D`. */
  windowMs: number | null;
  /** Snapshot times: D = offsetMs + k · everyMs (epoch ms, UTC); `cron` when given as one. */
  schedule: { everyMs: number; offsetMs: number; cron: string | null };
  /** Portable SQL over `source`; `@snapshot_ms` is replaced by D. */
  query: string;
  /** A snapshot's values are served until `D + ttlMs` (and only while it is the latest). */
  ttlMs: number;
  online: boolean;
  features: BatchViewFeatureSpec[];
  description: string;
  /**
   * Present only when the view declares `materialization` for `larder scheduler`; its slots are
   * the snapshot schedule unless it names its own.
   */
  materialization?: MaterializationSpec;
}

/** The snapshot time that applies at `t`: the latest D with `D <= t`. */
export function snapshotAt(
  schedule: Pick<BatchViewSpec['schedule'], 'everyMs' | 'offsetMs'>,
  t: number,
): number {
  const { everyMs, offsetMs } = schedule;
  return Math.floor((t - offsetMs) / everyMs) * everyMs + offsetMs;
}

/** The relation column holding a record's event time (epoch ms). */
export const BATCH_TS_COLUMN = 'ts';

/** The placeholder of the query replaced by the snapshot time D (an integer literal). */
export const SNAPSHOT_PLACEHOLDER = '@snapshot_ms';

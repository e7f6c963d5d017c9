/**
 * Batch views → online: writes the latest snapshot at `end` (D = the latest snapshot time <=
 * end) of each online batch view, one lifetime `last` state per entity and feature with D as
 * its event time (see `definitions/batch/serving-view.ts`). States are overwritten, so running
 * it twice is running it once; entities absent from the new snapshot keep their older state,
 * which reads as null from D on (it is not the snapshot that applies).
 */
import { encodeEntityKey, type LifetimeWrite } from '../aggregation/tiles.ts';
import { LarderError } from '../core/errors.ts';
import { snapshotAt } from '../definitions/batch/batch-view-spec.ts';
import type { Repository } from '../definitions/repository.ts';
import type { BatchSnapshot, OfflineStore } from '../offline/offline-store.ts';
import type { OnlineStore } from '../online/online-store.ts';
import type { ViewMaterialization } from './materialize.ts';

export interface BatchMaterializeRequest {
  repo: Repository;
  offline: OfflineStore;
  online: OnlineStore;
  /** Batch view names (each must exist and be online). */
  views: readonly string[];
  end: number;
  batchSize?: number;
  onViewStart?: (view: string) => void;
}

/** The batch views named in `names` (all online ones when none are named). */
export function selectBatchViews(repo: Repository, names?: readonly string[]): string[] {
  if (!names || names.length === 0)
    return [...repo.batchViews.values()].filter((v) => v.spec.online).map((v) => v.spec.name);
  return names.filter((n) => {
    const v = repo.batchViews.get(n);
    if (v && !v.spec.online)
      throw new LarderError(
        'LARDER_BAD_REQUEST',
        `batch view "${n}" is offline-only (online: false)`,
        {
          detail: { reason: 'unsupported_operation' },
        },
      );
    return v !== undefined;
  });
}

/**
 * The online writes of snapshot rows: per entity, one lifetime `last` state per feature with
 * the snapshot time D as its event time (null for a null value).
 */
export function snapshotWrites(
  view: string,
  at: number,
  rows: BatchSnapshot['rows'],
): LifetimeWrite[] {
  return rows.map((r) => ({
    view,
    entityKey: encodeEntityKey(r.key),
    states: Object.fromEntries(
      Object.entries(r.values).map(([f, v]) => [f, v === null ? null : { v, ts: at, id: '' }]),
    ),
  }));
}

/**
 * Loads the latest snapshot of each view into the online store. The result's `start` and `end`
 * are the snapshot time D; `lifetime` counts the entities written.
 */
export async function materializeBatchViews(
  req: BatchMaterializeRequest,
): Promise<ViewMaterialization[]> {
  const out: ViewMaterialization[] = [];
  for (const name of req.views) {
    const view = req.repo.batchViews.get(name)!;
    const started = Date.now();
    req.onViewStart?.(name);
    const at = snapshotAt(view.spec.schedule, req.end);
    const snap = await req.offline.batchSnapshot({ repo: req.repo, view: name, at });
    const size = req.batchSize ?? 10_000;
    for (let i = 0; i < snap.rows.length; i += size) {
      await req.online.writeLifetime(snapshotWrites(name, at, snap.rows.slice(i, i + size)));
    }
    const seconds = (Date.now() - started) / 1000;
    out.push({
      view: name,
      start: at,
      end: at,
      tiles: 0,
      skipped: 0,
      lifetime: snap.rows.length,
      seconds,
      rowsPerSecond: Math.round(snap.rows.length / Math.max(seconds, 0.001)),
      rejects: snap.rejects,
    });
  }
  return out;
}

/**
 * Where `materialize-incremental` restarts each feature view: its watermark (the `end` of the
 * last run, in event time), or earlier when records that arrived since the last run started
 * (ingestion time, `_larder_ingested_at`, kept by the offline store's append path) carry older
 * event times: a late record lands in a tile the last run already wrote, and that tile is
 * recomputed (tiles are overwritten, so recomputing more than needed changes nothing).
 *
 * @example
 * const starts = await incrementalStarts(repo, offline, ['user_activity'], marks, arrivals);
 */
import type { Repository } from '../definitions/repository.ts';
import { viewSource } from '../offline/export/export-plan.ts';
import type { OfflineStore } from '../offline/offline-store.ts';

/**
 * Per view: `min(watermark, earliest event time appended since the last run started)`; a view
 * never materialized has no start (the full default). Without an arrival mark (a registry
 * written before arrival marks were kept) the watermark alone.
 */
export async function incrementalStarts(
  repo: Repository,
  offline: Pick<OfflineStore, 'earliestAppendedSince'>,
  views: readonly string[],
  watermarks: Readonly<Record<string, number>>,
  arrivals: Readonly<Record<string, number>>,
): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const view of views) {
    const mark = watermarks[view];
    if (mark === undefined) continue;
    const since = arrivals[view];
    const late =
      since === undefined
        ? null
        : await offline.earliestAppendedSince(viewSource(repo, view), since);
    out[view] = late === null ? mark : Math.min(mark, late);
  }
  return out;
}

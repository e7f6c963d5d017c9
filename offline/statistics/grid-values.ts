/**
 * A feature view's offline values over a time grid: its features exported by the export
 * pipeline of an offline store (DuckDB or BigQuery) for every entity key of its source at
 * `start, start + every, …` up to the last step before `end`. What `larder validate` describes
 * a view by and what `larder drift` compares over a window (docs/monitoring.md).
 *
 * @example
 * const values = await gridValues(store, repo, 'user_activity', ['clicks_1h'], { start, end, everyMs: 3_600_000 });
 * values.rows; // entity keys × grid times
 * values.columns.get('clicks_1h'); // one value per row
 */
import type { Repository } from '../../definitions/repository.ts';
import type { FeatureValue } from '../../core/types.ts';
import type { OfflineStore } from '../offline-store.ts';

export interface GridWindow {
  /** The window `[start, end)`, epoch ms. */
  start: number;
  end: number;
  /** The grid's step (ms). */
  everyMs: number;
}

export interface GridValues {
  /** Grid rows: entity keys × grid times. */
  rows: number;
  /** Feature name → its value in each row (null: no value at that time). */
  columns: Map<string, (FeatureValue | null)[]>;
}

/** The last grid time before `end`: `start + k · every` with k as large as it can be. */
export const lastGridTime = (w: GridWindow): number =>
  w.end - 1 - ((w.end - 1 - w.start) % w.everyMs);

/** The values of `features` of the feature view `view` over the grid of `window`. */
export async function gridValues(
  store: OfflineStore,
  repo: Repository,
  view: string,
  features: readonly string[],
  window: GridWindow,
): Promise<GridValues> {
  const summary = await store.exportPointInTime({
    repo,
    features: repo.resolveFeatures({ features: features.map((f) => `${view}:${f}`) }),
    entities: {
      type: 'grid',
      start: window.start,
      end: lastGridTime(window),
      everyMs: window.everyMs,
    },
    out: { type: 'memory' },
    fullFeatureNames: true,
  });
  const rows = summary.data ?? [];
  return {
    rows: rows.length,
    columns: new Map(features.map((f) => [f, rows.map((r) => r[`${view}__${f}`] ?? null)])),
  };
}

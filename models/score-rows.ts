/**
 * Scores entity rows with a model in the serving process: one online read of the model's
 * input features (one store round trip, however many rows), encoding, one batched ONNX run.
 */
import {
  serveOnlineFeatures,
  type OnlineFeaturesRequest,
  type OnlineFeaturesResponse,
  type ServingSettings,
  type ServingSource,
} from '../retrieval/index.ts';
import type { ModelRuntime } from './model-runtime.ts';

export interface ScoredRows {
  scores: Float32Array;
  /** Per row: some mapped feature had no value (scored with the declared fill values). */
  missing: boolean[];
  /** Names of the mapped features that were null, per row. */
  missingFeatures: string[][];
  /** Milliseconds spent reading features and running the model. */
  featureMs: number;
  inferenceMs: number;
  /** The online read the scores came from (its evaluation time `t`), for feature logging. */
  read: { request: OnlineFeaturesRequest; response: OnlineFeaturesResponse };
}

/**
 * Scores column-wise entity rows at `settings.clock()`; `onStoreRead` hears the store's read
 * time in ms.
 *
 * @example
 * const r = await scoreRows(ctx.state.current, ctx, model, { user_id: ['u1'], product_id: ['p1'] });
 * r.scores[0]; // the model's score of (u1, p1)
 */
export async function scoreRows(
  source: ServingSource,
  settings: ServingSettings,
  model: ModelRuntime,
  entities: Readonly<Record<string, readonly unknown[]>>,
  onStoreRead?: (ms: number) => void,
): Promise<ScoredRows> {
  const refs = model.spec.inputs.map((i) => i.feature);
  const started = performance.now();
  const request: OnlineFeaturesRequest = {
    ref: { features: [...new Set(refs)] },
    entities,
    fullFeatureNames: true,
  };
  const res = await serveOnlineFeatures(source, settings, request, onStoreRead);
  const byName = new Map(res.columns.map((c) => [c.name, c]));
  const columns = refs.map((r) => byName.get(r.replace(':', '__'))?.values ?? []);
  const rows = Object.values(entities)[0]?.length ?? 0;
  const featureMs = performance.now() - started;
  const { scores, missing } = await model.scoreColumns(columns, rows);
  const missingFeatures = Array.from({ length: rows }, (_, r) =>
    missing[r] ? refs.filter((_, k) => (columns[k]?.[r] ?? null) === null) : [],
  );
  return {
    scores,
    missing,
    missingFeatures,
    featureMs,
    inferenceMs: performance.now() - started - featureMs,
    read: { request, response: res },
  };
}

/**
 * Batch → online: computes, with the offline store, the per-hop tiles and lifetime `last`
 * states that serve every online feature of a view at any time ≥ `end`, and loads them into the
 * online store in batches. A tile is written only if some feature can read it at a time ≥ `end`
 * (`tileServes`, per hop size: the largest window using that hop), whatever `start` is. Tiles are overwritten (never incremented), lifetime states keep the
 * newer value, so re-running the same range, or resuming after a crash midway, is idempotent.
 * Memory stays bounded: one batch is written while the next one is computed, and the one after
 * that is computed only once the first is written.
 */
import type { OfflineStore, ValidationProgress } from '../offline/offline-store.ts';
import { tileHops, tilesStart, toTileWrites } from '../offline/tile-writes.ts';
import type { OnlineStore } from '../online/online-store.ts';
import { tileServes, viewWritePlan, type ViewWritePlan } from '../online/view-catalog.ts';
import { LarderError } from '../core/errors.ts';
import type { Repository } from '../definitions/repository.ts';
import type { FeatureViewSpec } from '../definitions/spec.ts';
import { viewSource } from '../offline/export/export-plan.ts';
import {
  materializeOnWorkers,
  type MaterializeProgress,
  type MaterializeRetry,
  type MaterializeWorkers,
  type ViewMaterialization,
} from './materialize-workers.ts';

export type { MaterializeProgress, MaterializeWorkers, ViewMaterialization };

export interface MaterializeRequest {
  repo: Repository;
  offline: OfflineStore;
  online: OnlineStore;
  /** Views to load (default: every online feature view). */
  views?: readonly string[];
  end: number;
  /**
   * Lower bound of the events to load into tiles, per view. Default: `tilesStart(view, end)`,
   * the first hop a read at any `t >= end` merges (lifetime states use every event before `end`
   * whatever the start). Aligned down to a multiple of every hop of the view (`alignStart`) so
   * no tile is overwritten with a partial one.
   */
  start?: (view: FeatureViewSpec) => number | undefined;
  batchSize?: number;
  onProgress?: (p: MaterializeProgress) => void;
  /**
   * Called as a view starts, before the offline store reads (and, on a first run, validates) its
   * source records: the phase before the first `onProgress`, which can take a while.
   */
  onViewStart?: (view: string) => void;
  /** Progress of that first run's validation of the view's new raw files (rows/s, ETA). */
  onValidate?: (view: string, p: ValidationProgress) => void;
  /**
   * A write that fails with a retriable error (the online store unavailable) is retried with
   * exponential backoff (0.1 s doubling to 5 s) for up to `retryForMs` (default 120 000), then
   * the error is thrown. Writes are idempotent, so retrying a partly applied write is safe.
   */
  retryForMs?: number;
  /** Called before each retry (the CLI prints it). */
  onRetry?: (r: MaterializeRetry) => void;
  /**
   * Views computed and written on `count` threads at once, this one (with `offline` and
   * `online`) and `count − 1` worker threads with stores of their own (`materialize-workers.ts`),
   * biggest first; default (or `count` < 2): the views in turn on this thread. Either way each
   * view is materialized the same way and the results come back in the views' order.
   */
  workers?: MaterializeWorkers;
  /** Internal: called once a view's `computeTiles` returned (its source read and validated). */
  onComputed?: (view: string) => void;
}

const RETRY_FIRST_MS = 100;
const RETRY_MAX_DELAY_MS = 5000;

/** Runs a store write, retrying retriable failures with backoff (see `MaterializeRequest.retryForMs`). */
async function withRetry(req: MaterializeRequest, view: string, write: () => Promise<void>) {
  const deadline = Date.now() + (req.retryForMs ?? 120_000);
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (e) {
      if (!(e instanceof LarderError) || !e.retriable) throw e;
      const delayMs = Math.min(RETRY_MAX_DELAY_MS, RETRY_FIRST_MS * 2 ** (attempt - 1));
      if (Date.now() + delayMs > deadline) throw e;
      req.onRetry?.({ view, attempt, delayMs, error: e });
      await new Promise((r) => setTimeout(r, delayMs));
    }
  }
}

/**
 * Aligns a start time down to a multiple of every hop of the view (their least common multiple:
 * the largest hop when the hops divide each other, as the default hops do), so every tile it
 * writes is complete. Aligned to the largest hop only, a 7-minute tile could start before an
 * hour boundary and be overwritten with the events after it.
 */
export function alignStart(view: FeatureViewSpec, start: number): number {
  const hop = tileHops(view).reduce(lcm, 1);
  return Math.floor(start / hop) * hop;
}

/**
 * Per hop size of the view, the first hop whose tile can serve a read at a time ≥ `end`
 * (`tileServes`: a tile's expiry grows with its hop), searched in the hops of `[start, end]`.
 */
export function firstServingHops(
  view: FeatureViewSpec,
  plan: ViewWritePlan,
  start: number,
  end: number,
): Map<number, number> {
  const out = new Map<number, number>();
  for (const hopMs of tileHops(view)) {
    let lo = Math.floor(start / hopMs);
    let hi = Math.floor(end / hopMs) + 1;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (tileServes(plan, hopMs, mid, end)) hi = mid;
      else lo = mid + 1;
    }
    out.set(hopMs, lo);
  }
  return out;
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
const lcm = (a: number, b: number): number => (a / gcd(a, b)) * b;

/** Views to materialize: the named ones (each must exist and be online), else all online views. */
export function selectViews(repo: Repository, names?: readonly string[]): FeatureViewSpec[] {
  if (!names || names.length === 0)
    return [...repo.featureViews.values()].filter((v) => v.spec.online).map((v) => v.spec);
  return names.map((n) => {
    const v = repo.featureViews.get(n);
    if (!v)
      throw new LarderError('LARDER_NOT_FOUND', `unknown feature view "${n}"`, {
        hint: `views to materialize: ${[...repo.featureViews.values(), ...repo.batchViews.values()]
          .filter((x) => x.spec.online)
          .map((x) => x.spec.name)
          .join(', ')}`,
      });
    if (!v.spec.online)
      throw new LarderError(
        'LARDER_BAD_REQUEST',
        `feature view "${n}" is offline-only (online: false)`,
        { detail: { reason: 'unsupported_operation' } },
      );
    return v.spec;
  });
}

export async function materialize(req: MaterializeRequest): Promise<ViewMaterialization[]> {
  const views = selectViews(req.repo, req.views);
  if (req.workers && req.workers.count > 1 && views.length > 1)
    return materializeOnWorkers({
      setup: req.workers,
      views,
      sourceOf: (v) => viewSource(req.repo, v).name,
      end: req.end,
      start: (v) => req.start?.(v),
      ...(req.batchSize === undefined ? {} : { batchSize: req.batchSize }),
      ...(req.retryForMs === undefined ? {} : { retryForMs: req.retryForMs }),
      ...(req.onViewStart ? { onViewStart: req.onViewStart } : {}),
      ...(req.onValidate ? { onValidate: req.onValidate } : {}),
      ...(req.onProgress ? { onProgress: req.onProgress } : {}),
      ...(req.onRetry ? { onRetry: req.onRetry } : {}),
      here: async (view, onComputed) =>
        (await inTurn({ ...req, onComputed: () => onComputed() }, [view]))[0]!,
    });
  return inTurn(req, views);
}

/** The views one at a time on this thread, with `req.offline` and `req.online`. */
async function inTurn(
  req: MaterializeRequest,
  views: readonly FeatureViewSpec[],
): Promise<ViewMaterialization[]> {
  const out: ViewMaterialization[] = [];
  for (const view of views) {
    const started = Date.now();
    req.onViewStart?.(view.name);
    const plan = viewWritePlan(view);
    const start = alignStart(view, req.start?.(view) ?? tilesStart(view, req.end));
    // computeTiles takes events in [start, end): +1 makes `end` inclusive, like every read at t.
    const result = await req.offline.computeTiles(view, {
      repo: req.repo,
      start,
      end: req.end + 1,
      batchSize: req.batchSize ?? 10_000,
      firstHops: firstServingHops(view, plan, start, req.end),
      ...(req.onValidate
        ? { onValidate: (p: ValidationProgress) => req.onValidate!(view.name, p) }
        : {}),
    });
    req.onComputed?.(view.name);
    let tiles = 0;
    let skipped = 0;
    let lifetime = 0;
    const progress = (done: boolean): void =>
      req.onProgress?.({
        view: view.name,
        tiles,
        skipped,
        lifetime,
        total: result.total ?? null,
        seconds: (Date.now() - started) / 1000,
        done,
      });
    // One batch written while the next is computed: the store's work (Redis's own process, the
    // replies) overlaps DuckDB's and the decoding of the next batch. Writes stay in order, one
    // at a time; a write that fails ends the loop at the next batch.
    let writing: Promise<void> | null = null;
    try {
      for await (const batch of result.batches) {
        const { tiles: all, lifetime: lw } = toTileWrites(view.name, batch);
        // Only tiles some feature can still read at a time >= end (a far `start` loads history
        // that sets lifetime states, not tiles that already left every window).
        const tw = all.filter((t) => tileServes(plan, t.hopMs, t.hop, req.end));
        if (writing) await writing;
        // One store call for both: a batch holding an entity's tiles and lifetime states (as
        // DuckDB's batches do, by key) writes its key once.
        writing = (
          tw.length + lw.length > 0
            ? withRetry(req, view.name, () => req.online.writeTilesMergeLifetime(tw, lw))
            : Promise.resolve()
        ).then(() => {
          tiles += tw.length;
          skipped += all.length - tw.length;
          lifetime += lw.length;
          progress(false);
        });
        writing.catch(() => undefined); // awaited before the next write or after the loop
      }
      if (writing) await writing;
    } catch (e) {
      await writing?.catch(() => undefined);
      throw e;
    }
    progress(true);
    const seconds = (Date.now() - started) / 1000;
    out.push({
      view: view.name,
      start,
      end: req.end,
      tiles,
      skipped,
      lifetime,
      seconds,
      rowsPerSecond: Math.round((tiles + lifetime) / Math.max(seconds, 0.001)),
      rejects: result.rejects(),
    });
  }
  return out;
}

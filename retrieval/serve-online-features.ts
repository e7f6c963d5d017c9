/**
 * A served online read: what the HTTP route, the gRPC service and model scoring share. The
 * request is evaluated at the server's clock (read once per request), against one snapshot of
 * the repository and the online store (taken by the caller at the request's start, so a registry
 * reload never changes a request in flight).
 */
import type { Repository } from '../definitions/repository.ts';
import type { OnlineStore } from '../online/online-store.ts';
import {
  getOnlineFeatures,
  type OnlineFeaturesRequest,
  type OnlineFeaturesResponse,
} from './get-online-features.ts';

/** The repository and store a request is served from (a serving snapshot). */
export interface ServingSource {
  readonly repo: Repository;
  readonly store: Pick<OnlineStore, 'readMany'>;
}

/** The server's settings for reads; the HTTP and gRPC server context satisfies it. */
export interface ServingSettings {
  /** Entity rows per request (`serve.maxEntityRows`). */
  readonly maxEntityRows: number;
  /** Evaluation time of a read, epoch ms (called once per request). */
  clock(): number;
}

/**
 * Reads features for a parsed request at `settings.clock()` (any `t` in the request is
 * replaced); `onStoreRead` hears the store's read time in ms (metrics).
 *
 * @example
 * const snap = ctx.state.current;
 * const res = await serveOnlineFeatures(snap, ctx, parseOnlineRequest(body), onStoreRead);
 */
export function serveOnlineFeatures(
  source: ServingSource,
  settings: ServingSettings,
  req: OnlineFeaturesRequest,
  onStoreRead?: (ms: number) => void,
): Promise<OnlineFeaturesResponse> {
  req.t = settings.clock();
  return getOnlineFeatures(
    { repo: source.repo, store: source.store, maxEntityRows: settings.maxEntityRows, onStoreRead },
    req,
  );
}

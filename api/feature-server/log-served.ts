/**
 * The serving path's one feature-logging call: enqueues a served read of a service declared
 * with `logging` (only a reference to the request and response is kept; see
 * monitoring/feature-log.ts). Reads by feature list, and services without `logging`, are not
 * logged.
 */
import type { Repository } from '../../definitions/repository.ts';
import type { FeatureLog } from '../../monitoring/feature-log.ts';
import type { OnlineFeaturesRequest, OnlineFeaturesResponse } from '../../retrieval/index.ts';

/**
 * @example
 * if (ctx.featureLog) logServed(ctx.featureLog, snap.repo, req, res);
 */
export function logServed(
  log: FeatureLog,
  repo: Repository,
  req: OnlineFeaturesRequest,
  res: OnlineFeaturesResponse,
): void {
  if (!('service' in req.ref)) return;
  const logging = repo.services.get(req.ref.service)?.spec.logging;
  if (!logging) return;
  log.enqueue({
    service: req.ref.service,
    logging,
    t: req.t ?? Date.now(),
    entities: req.entities,
    response: res,
  });
}

/**
 * The serving path's feature-logging calls: enqueue a served read of a service declared with
 * `logging` (REST and gRPC), or a scoring by a model declared with `logging` (only references to
 * the request, the response and the scores are kept; see monitoring/feature-log.ts). Reads by
 * feature list, and services and models without `logging`, are not logged.
 */
import type { Repository } from '../../definitions/repository.ts';
import type { ModelSpec } from '../../definitions/spec.ts';
import type { FeatureLog } from '../../monitoring/feature-log.ts';
import type { ScoredRows } from '../../models/score-rows.ts';
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

/**
 * Logs a model's scored rows under the model's feature service, with the model, the experiment
 * arm (null outside an experiment) and each row's score.
 *
 * @example
 * if (ctx.featureLog) logScored(ctx.featureLog, model.spec, r, arm?.name ?? null);
 */
export function logScored(
  log: FeatureLog,
  model: ModelSpec,
  scored: Pick<ScoredRows, 'read' | 'scores'>,
  arm: string | null,
): void {
  if (!model.logging) return;
  const { request, response } = scored.read;
  log.enqueue({
    service: model.service,
    logging: model.logging,
    t: request.t ?? Date.now(),
    entities: request.entities,
    response,
    model: { name: model.name, arm, scores: scored.scores },
  });
}

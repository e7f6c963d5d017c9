/**
 * A repository of one feature service's feature views, with the entities and sources they need
 * (for the stream benchmarks' `SERVICE=recommendation_v1`); an empty name returns `repo`.
 */
import { Repository } from '../definitions/repository.ts';

export function restrictToService(repo: Repository, service: string): Repository {
  if (!service) return repo;
  const svc = repo.services.get(service);
  if (!svc) throw new Error(`no feature service "${service}" in the repository`);
  const names = new Set(svc.spec.projections.map((p) => p.view));
  return Repository.from(
    [
      ...repo.entities.values(),
      ...repo.batchSources.values(),
      ...repo.streamSources.values(),
      ...repo.pushSources.values(),
      ...[...repo.featureViews.values()].filter((v) => names.has(v.spec.name)),
    ],
    repo.root,
  );
}

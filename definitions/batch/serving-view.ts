/**
 * How a batch view is stored and served online: as a feature view of lifetime `last` features
 * whose states carry the snapshot time D as their event time, read with a TTL of
 * `min(every, ttl) − 1 ms`. A read at t then returns the stored value exactly when D <= t <
 * D + every (the stored snapshot is the one that applies at t) and t < D + ttl — the rule of the
 * training export (see docs/online-store-format.md, "Batch views").
 */
import type { FeatureViewSpec } from '../spec.ts';
import type { Repository } from '../repository.ts';
import type { BatchViewSpec } from './batch-view-spec.ts';
import type { BatchViewDef } from '../dsl/batch-view.ts';

const cache = new WeakMap<BatchViewSpec, FeatureViewSpec>();

/** The feature view the online stores keep a batch view's latest snapshot as. */
export function servingView(def: BatchViewDef): FeatureViewSpec {
  const bv = def.spec;
  let v = cache.get(bv);
  if (!v) {
    v = {
      kind: 'feature_view',
      name: bv.name,
      entities: bv.entities,
      keys: Object.fromEntries(
        def.entityDefs.map((e) => [e.spec.joinKey, bv.columns[e.spec.joinKey]!]),
      ),
      source: bv.source,
      filter: bv.filter,
      ttlMs: Math.min(bv.schedule.everyMs, bv.ttlMs) - 1,
      online: bv.online,
      features: bv.features.map((f) => ({
        name: f.name,
        type: f.type,
        aggregation: 'last',
        input: { op: 'col', path: f.name },
        weight: null,
        where: null,
        windowMs: null,
        hopMs: null,
        description: f.description,
      })),
      description: bv.description,
    };
    cache.set(bv, v);
  }
  return v;
}

/** Every view an online store keeps: the feature views and the batch views, as feature views. */
export function onlineViewSpecs(repo: Repository): FeatureViewSpec[] {
  return [
    ...[...repo.featureViews.values()].map((v) => v.spec),
    ...[...repo.batchViews.values()].map((v) => servingView(v)),
  ];
}

/** A view read online by name: a feature view's spec, or a batch view's serving view. */
export function onlineViewSpec(repo: Repository, name: string): FeatureViewSpec | undefined {
  const bv = repo.batchViews.get(name);
  return repo.featureViews.get(name)?.spec ?? (bv ? servingView(bv) : undefined);
}

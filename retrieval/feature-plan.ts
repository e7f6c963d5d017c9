/**
 * Read plans for a requested feature set, built once per (repository, feature list or service,
 * full_feature_names) and cached: which views to read (including views only needed as on-demand
 * inputs), which features of each, which join keys and request fields the rows must carry, and
 * how every output column is filled. The hot path only walks these arrays.
 */
import { LarderError } from '../core/errors.ts';
import type { OnDemandFeatureViewDef } from '../definitions/dsl/on-demand.ts';
import type { Repository } from '../definitions/repository.ts';
import { onlineViewSpec } from '../definitions/batch/serving-view.ts';
import type { FeatureViewSpec } from '../definitions/spec.ts';
import type { ValueType } from '../core/types.ts';

/** Views keyed by the same join keys share one set of deduplicated entity keys. */
export interface KeyGroup {
  /** Join keys in the views' entity order. */
  joinKeys: readonly string[];
}

/** One view read: the features the request needs from it (outputs and on-demand inputs). */
export interface ViewRead {
  spec: FeatureViewSpec;
  features: string[];
  group: number;
}

/** An input column of an on-demand transform. */
export type OdfvInputPlan =
  | { name: string; from: 'feature'; read: number; feature: number }
  | { name: string; from: 'request'; field: string };

export interface OdfvStep {
  def: OnDemandFeatureViewDef;
  inputs: OdfvInputPlan[];
}

/** How one output column is filled. */
export type OutputColumn =
  | { name: string; type: ValueType; from: 'view'; read: number; feature: number }
  | { name: string; type: ValueType; from: 'odfv'; step: number; output: string };

export interface FeaturePlan {
  groups: KeyGroup[];
  reads: ViewRead[];
  steps: OdfvStep[];
  outputs: OutputColumn[];
  /** Join key → its entity's value type, for every join key the rows must carry. */
  joinKeyTypes: ReadonlyMap<string, ValueType>;
  /** Request field → declared type, for every request field an on-demand input reads. */
  requestFields: ReadonlyMap<string, ValueType>;
}

export type FeatureRef = { features: readonly string[] } | { service: string };

const MAX_CACHED = 1000;
const cache = new WeakMap<Repository, Map<string, FeaturePlan>>();

/**
 * The cached plan for a feature list or service against a repository (a reloaded repository
 * is a new object, so its plans are rebuilt). Throws LARDER_NOT_FOUND / LARDER_BAD_REQUEST for
 * unknown references.
 *
 * @example
 * const plan = featurePlan(repo, { service: 'recommendation_v1' }, false);
 * plan.reads.map((r) => r.spec.name); // ['user_activity', 'user_purchases', ...]
 */
export function featurePlan(repo: Repository, ref: FeatureRef, fullNames: boolean): FeaturePlan {
  let byKey = cache.get(repo);
  if (!byKey) {
    byKey = new Map();
    cache.set(repo, byKey);
  }
  const key =
    ('service' in ref ? `s\u0000${ref.service}` : `f\u0000${ref.features.join('\u0000')}`) +
    (fullNames ? '\u0001' : '\u0002');
  let plan = byKey.get(key);
  if (!plan) {
    plan = buildPlan(repo, ref, fullNames);
    if (byKey.size >= MAX_CACHED) byKey.clear();
    byKey.set(key, plan);
  }
  return plan;
}

function buildPlan(repo: Repository, ref: FeatureRef, fullNames: boolean): FeaturePlan {
  const resolved = repo.resolveFeatures(ref);
  const groups: KeyGroup[] = [];
  const groupIndex = new Map<string, number>();
  const reads: ViewRead[] = [];
  const readIndex = new Map<string, number>();
  const joinKeyTypes = new Map<string, ValueType>();
  const requestFields = new Map<string, ValueType>();

  const entityKeys = (names: readonly string[]): string[] =>
    names.map((n) => {
      const e = repo.entities.get(n);
      if (!e) throw new LarderError('LARDER_INTERNAL', `entity "${n}" is not in the repository`);
      joinKeyTypes.set(e.spec.joinKey, e.spec.valueType);
      return e.spec.joinKey;
    });
  const featureOf = (view: string, feature: string): { read: number; feature: number } => {
    let r = readIndex.get(view);
    if (r === undefined) {
      const spec = onlineViewSpec(repo, view)!;
      const joinKeys = entityKeys(spec.entities);
      const gk = joinKeys.join('\u0000');
      let g = groupIndex.get(gk);
      if (g === undefined) {
        g = groups.push({ joinKeys }) - 1;
        groupIndex.set(gk, g);
      }
      r = reads.push({ spec, features: [], group: g }) - 1;
      readIndex.set(view, r);
    }
    const read = reads[r]!;
    let f = read.features.indexOf(feature);
    if (f < 0) f = read.features.push(feature) - 1;
    return { read: r, feature: f };
  };

  const steps: OdfvStep[] = [];
  const stepIndex = new Map<string, number>();
  const outputs: OutputColumn[] = [];
  const seen = new Set<string>();
  for (const rf of resolved) {
    const name = fullNames ? `${rf.view}__${rf.feature}` : rf.feature;
    if (seen.has(name)) {
      throw new LarderError('LARDER_BAD_REQUEST', `feature "${name}" is requested twice`, {
        hint: fullNames
          ? 'remove the duplicate reference'
          : 'two views have a feature of this name: set "full_feature_names": true',
        detail: { reason: 'duplicate' },
      });
    }
    seen.add(name);
    if (!rf.onDemand) {
      outputs.push({ name, type: rf.type, from: 'view', ...featureOf(rf.view, rf.feature) });
      continue;
    }
    let s = stepIndex.get(rf.view);
    if (s === undefined) {
      const def = repo.onDemandViews.get(rf.view)!;
      entityKeys(def.spec.entities);
      const inputs: OdfvInputPlan[] = Object.entries(def.spec.inputs).map(([n, input]) => {
        if (input.from === 'request') {
          requestFields.set(input.field, input.type);
          return { name: n, from: 'request', field: input.field };
        }
        return { name: n, from: 'feature', ...featureOf(input.view, input.feature) };
      });
      s = steps.push({ def, inputs }) - 1;
      stepIndex.set(rf.view, s);
    }
    outputs.push({ name, type: rf.type, from: 'odfv', step: s, output: rf.feature });
  }
  for (const f of requestFields.keys()) {
    if (joinKeyTypes.has(f))
      throw new LarderError(
        'LARDER_DEFINITION_INVALID',
        `request field "${f}" has the name of a join key`,
      );
  }
  return { groups, reads, steps, outputs, joinKeyTypes, requestFields };
}

/**
 * A loaded feature repository: every definition by kind and name, validated across objects.
 * This is what the engines work from at run time (it keeps the TypeScript parts — record
 * schemas and on-demand transforms — that the JSON registry cannot hold).
 */
import { DefinitionError, LarderError, type Problem } from '../core/errors.ts';
import type { ExprNode } from './expr/expr.ts';
import { exprPaths, sameKey, undeclaredMapKeys } from './expr/expr-typos.ts';
import { batchOf } from './dsl/sources.ts';
import type { Definition } from './dsl/definition.ts';
import type { BatchViewDef } from './dsl/batch-view.ts';
import type { EntityDef } from './dsl/entity.ts';
import type { FeatureServiceDef } from './dsl/feature-service.ts';
import type { FeatureViewDef } from './dsl/feature-view.ts';
import type { ExperimentDef, ModelDef } from './dsl/model.ts';
import type { OnDemandFeatureViewDef } from './dsl/on-demand.ts';
import type { BatchSourceDef, PushSourceDef, StreamSourceDef } from './dsl/sources.ts';
import type { ObjectKind, ObjectSpec } from './spec.ts';
import { OBJECT_KINDS } from './spec.ts';
import { batchViewNameClashes, batchViewProblems } from './batch/batch-view-checks.ts';
import type { ValueType } from '../core/types.ts';

export interface ResolvedFeature {
  view: string;
  feature: string;
  type: ValueType;
  onDemand: boolean;
  /** A batch view's feature (absent otherwise). */
  batch?: true;
}

export class Repository {
  readonly entities = new Map<string, EntityDef>();
  readonly batchSources = new Map<string, BatchSourceDef>();
  readonly streamSources = new Map<string, StreamSourceDef>();
  readonly pushSources = new Map<string, PushSourceDef>();
  readonly featureViews = new Map<string, FeatureViewDef>();
  readonly onDemandViews = new Map<string, OnDemandFeatureViewDef>();
  readonly batchViews = new Map<string, BatchViewDef>();
  readonly services = new Map<string, FeatureServiceDef>();
  readonly models = new Map<string, ModelDef>();
  readonly experiments = new Map<string, ExperimentDef>();
  /** Absolute path of the repository root (for model and Avro files). */
  readonly root: string;

  private constructor(root: string) {
    this.root = root;
  }

  /** Builds and validates a repository; throws a DefinitionError listing every problem. */
  static from(definitions: Iterable<Definition>, root: string): Repository {
    const repo = new Repository(root);
    const problems: Problem[] = [];
    const seen = new Map<string, Definition>();
    for (const d of definitions) {
      const key = `${d.spec.kind}:${d.spec.name}`;
      const prev = seen.get(key);
      if (prev === d) continue;
      if (prev) {
        problems.push({
          at: d.definedAt,
          object: `${label(d.spec.kind)} "${d.spec.name}"`,
          field: 'name',
          message: `duplicate name: also defined at ${prev.definedAt}`,
          hint: 'names are unique per kind; rename one of them',
        });
        continue;
      }
      seen.set(key, d);
      repo.#mapFor(d.spec.kind).set(d.spec.name, d as never);
    }
    // Feature views and on-demand views share one namespace (services and requests use view:feature).
    for (const name of repo.onDemandViews.keys()) {
      const fv = repo.featureViews.get(name);
      if (fv)
        problems.push({
          at: repo.onDemandViews.get(name)!.definedAt,
          object: `on-demand feature view "${name}"`,
          field: 'name',
          message: `a feature view of the same name is defined at ${fv.definedAt}`,
        });
    }
    problems.push(...batchViewNameClashes(repo));
    problems.push(...repo.#validate());
    if (problems.length > 0) throw new DefinitionError(problems);
    return repo;
  }

  #mapFor(kind: ObjectKind): Map<string, Definition> {
    const maps: Record<ObjectKind, Map<string, Definition>> = {
      entity: this.entities,
      batch_source: this.batchSources,
      stream_source: this.streamSources,
      push_source: this.pushSources,
      feature_view: this.featureViews,
      on_demand_feature_view: this.onDemandViews,
      batch_view: this.batchViews,
      feature_service: this.services,
      model: this.models,
      experiment: this.experiments,
    } as Record<ObjectKind, Map<string, Definition>>;
    return maps[kind];
  }

  /** Every object, in dependency order (entities and sources first). */
  all(): Definition[] {
    return OBJECT_KINDS.flatMap((k) =>
      [...this.#mapFor(k).values()].sort((a, b) => a.spec.name.localeCompare(b.spec.name)),
    );
  }

  specs(): ObjectSpec[] {
    return this.all().map((d) => d.spec);
  }

  get(kind: ObjectKind, name: string): Definition | undefined {
    return this.#mapFor(kind).get(name);
  }

  /** Finds an object by name across kinds (for `larder describe NAME`). */
  find(name: string): Definition[] {
    return OBJECT_KINDS.flatMap((k) => {
      const d = this.#mapFor(k).get(name);
      return d ? [d] : [];
    });
  }

  /** Type of `view:feature` across feature views and on-demand views, or null. */
  featureType(view: string, feature: string): ValueType | null {
    const fv = this.featureViews.get(view);
    if (fv) return fv.spec.features.find((f) => f.name === feature)?.type ?? null;
    const od = this.onDemandViews.get(view) ?? this.batchViews.get(view);
    if (od) return od.spec.features.find((f) => f.name === feature)?.type ?? null;
    return null;
  }

  /** The view of any kind named `name`: what it is called in messages, and its features. */
  #viewNamed(name: string): { kind: string; features: string[] } | undefined {
    const spec =
      this.featureViews.get(name)?.spec ??
      this.onDemandViews.get(name)?.spec ??
      this.batchViews.get(name)?.spec;
    if (!spec) return undefined;
    const kind = this.featureViews.has(name)
      ? 'feature view'
      : this.onDemandViews.has(name)
        ? 'on-demand view'
        : 'batch view';
    return { kind, features: spec.features.map((f) => f.name) };
  }

  /**
   * Resolves a feature list (`["view:feature", ...]`) or a service name into features, in
   * order; throws LARDER_NOT_FOUND naming the first unknown reference.
   */
  resolveFeatures(ref: { features: readonly string[] } | { service: string }): ResolvedFeature[] {
    let refs: string[];
    if ('service' in ref) {
      const svc = this.services.get(ref.service);
      if (!svc) {
        const services = [...this.services.keys()].join(', ') || '(none)';
        const view = this.#viewNamed(ref.service);
        throw new LarderError('LARDER_NOT_FOUND', `unknown feature service "${ref.service}"`, {
          hint: view
            ? `${ref.service} is a ${view.kind}, not a feature service: name its features as view:feature, e.g. ${ref.service}:${view.features[0] ?? 'feature'} (services: ${services})`
            : `known services: ${services}`,
        });
      }
      refs = svc.spec.projections.flatMap((p) => p.features.map((f) => `${p.view}:${f}`));
    } else refs = [...ref.features];
    return refs.map((r) => {
      const [view, feature] = r.split(':') as [string, string | undefined];
      if (feature === undefined)
        throw new LarderError('LARDER_BAD_REQUEST', `"${r}" is not a feature reference`, {
          hint: 'write "view:feature", e.g. "user_activity:page_views_1h"',
          detail: { reason: 'invalid_feature_reference' },
        });
      if (
        !this.featureViews.has(view) &&
        !this.onDemandViews.has(view) &&
        !this.batchViews.has(view)
      ) {
        throw new LarderError('LARDER_NOT_FOUND', `unknown feature view "${view}" in "${r}"`, {
          hint: `known views: ${[...this.featureViews.keys(), ...this.onDemandViews.keys(), ...this.batchViews.keys()].join(', ')}`,
        });
      }
      const type = this.featureType(view, feature);
      if (type === null)
        throw new LarderError(
          'LARDER_NOT_FOUND',
          `feature view "${view}" has no feature "${feature}"`,
          { hint: `features of ${view}: ${this.#viewNamed(view)!.features.join(', ')}` },
        );
      return {
        view,
        feature,
        type,
        onDemand: this.onDemandViews.has(view),
        ...(this.batchViews.has(view) ? { batch: true } : {}),
      };
    });
  }

  /**
   * Keys of one map (whose keys `mapKeys` does not declare) read in two spellings across the
   * views (`properties.productId` here, `properties.product_id` there): one is a typo.
   */
  #keySpellings(): Problem[] {
    const byMap = new Map<string, MapKeyRead[]>();
    for (const v of this.featureViews.values()) {
      const batch = batchOf(v.source).spec;
      const exprs: [string, ExprNode | null][] = [
        ...Object.entries(v.spec.keys).map(([k, e]): [string, ExprNode] => [`keys.${k}`, e]),
        ['filter', v.spec.filter],
        ...v.spec.features.flatMap((f): [string, ExprNode | null][] =>
          [f.input, f.weight, f.where].map((e) => [`features.${f.name}`, e]),
        ),
      ];
      for (const [field, e] of exprs) {
        if (!e) continue;
        for (const path of exprPaths(e))
          for (const { map, key } of undeclaredMapKeys(batch.schema, path)) {
            const id = `${batch.name}\u0000${map}`;
            if (!byMap.has(id)) byMap.set(id, []);
            byMap.get(id)!.push({ view: v, field, path, key });
          }
      }
    }
    const problems: Problem[] = [];
    const seen = new Set<string>();
    for (const [id, reads] of byMap) {
      const [batch, map] = id.split('\u0000') as [string, string];
      for (const r of reads) {
        const other = reads.find((o) => sameKey(o.key, r.key));
        const once = `${r.view.spec.name}\u0000${r.field}\u0000${r.key}`;
        if (!other || seen.has(once)) continue;
        seen.add(once);
        problems.push({
          at: r.view.definedAt,
          object: `feature view "${r.view.spec.name}"`,
          field: r.field,
          message: `"${r.path}" reads key "${r.key}" of ${map}, but feature view "${other.view.spec.name}" reads "${other.key}": one of the two spellings is probably a typo`,
          hint: `use one spelling, or declare the keys of ${map} in mapKeys of batch source "${batch}"`,
        });
      }
    }
    return problems;
  }

  #validate(): Problem[] {
    const problems: Problem[] = [];
    const p = (d: Definition, field: string, message: string, hint?: string): void => {
      problems.push({
        at: d.definedAt,
        object: `${label(d.spec.kind)} "${d.spec.name}"`,
        field,
        message,
        ...(hint ? { hint } : {}),
      });
    };
    const known = (map: Map<string, unknown>): string => [...map.keys()].join(', ') || '(none)';
    for (const s of [...this.streamSources.values(), ...this.pushSources.values()]) {
      if (!this.batchSources.has(s.spec.batchSource))
        p(
          s,
          'batchSource',
          `batch source "${s.spec.batchSource}" is not exported by the repository`,
          'export it from one of the repository files',
        );
    }
    const topics = new Map<string, StreamSourceDef>();
    for (const s of this.streamSources.values()) {
      const other = topics.get(s.spec.topic);
      if (other)
        p(s, 'topic', `topic "${s.spec.topic}" is also used by stream source "${other.spec.name}"`);
      topics.set(s.spec.topic, s);
    }
    for (const v of this.featureViews.values()) {
      for (const e of v.spec.entities)
        if (!this.entities.has(e))
          p(
            v,
            'entities',
            `entity "${e}" is not exported by the repository (known: ${known(this.entities)})`,
          );
      const src = v.spec.source;
      if (
        !this.batchSources.has(src) &&
        !this.streamSources.has(src) &&
        !this.pushSources.has(src)
      ) {
        p(v, 'source', `source "${src}" is not exported by the repository`);
      }
    }
    problems.push(...batchViewProblems(this));
    problems.push(...this.#keySpellings());
    for (const od of this.onDemandViews.values()) {
      for (const [name, input] of Object.entries(od.spec.inputs)) {
        if (input.from === 'request') continue;
        const field = `inputs.${name}`;
        if (!this.featureViews.has(input.view)) {
          p(
            od,
            field,
            `unknown feature view "${input.view}"`,
            `known views: ${known(this.featureViews)}`,
          );
          continue;
        }
        const actual = this.featureType(input.view, input.feature);
        if (actual === null)
          p(od, field, `feature view "${input.view}" has no feature "${input.feature}"`);
        else if (actual !== input.type) {
          p(
            od,
            field,
            `type mismatch: "${input.view}:${input.feature}" is ${actual} but the transform declares ${input.type}`,
            `declare feature(${input.view}, '${input.feature}', '${actual}')`,
          );
        }
        const view = this.featureViews.get(input.view)!;
        const missing = view.spec.entities.filter((e) => !od.spec.entities.includes(e));
        if (missing.length > 0)
          p(
            od,
            field,
            `reads "${input.view}", keyed by ${missing.join(', ')}, which this view's entities (${od.spec.entities.join(', ')}) do not include`,
          );
      }
    }
    for (const svc of this.services.values()) {
      svc.spec.projections.forEach((proj, i) => {
        const field = `features[${i}]`;
        const view =
          this.featureViews.get(proj.view) ??
          this.onDemandViews.get(proj.view) ??
          this.batchViews.get(proj.view);
        if (!view) {
          p(
            svc,
            field,
            `unknown feature view "${proj.view}"`,
            `known views: ${[...this.featureViews.keys(), ...this.onDemandViews.keys(), ...this.batchViews.keys()].join(', ')}`,
          );
          return;
        }
        const names = view.spec.features.map((f) => f.name);
        if (proj.features.length === 1 && proj.features[0] === '*')
          proj.features.splice(0, 1, ...names);
        for (const f of proj.features) {
          if (!names.includes(f))
            p(
              svc,
              field,
              `unknown feature "${proj.view}:${f}"`,
              `"${proj.view}" has: ${names.join(', ')}`,
            );
        }
      });
    }
    for (const m of this.models.values()) {
      const svc = this.services.get(m.spec.service);
      if (!svc) {
        p(
          m,
          'service',
          `unknown feature service "${m.spec.service}"`,
          `known services: ${known(this.services)}`,
        );
        continue;
      }
      const served = new Set(
        svc.spec.projections.flatMap((x) => x.features.map((f) => `${x.view}:${f}`)),
      );
      m.spec.inputs.forEach((input, i) => {
        if (!served.has(input.feature))
          p(
            m,
            `inputs[${i}].feature`,
            `"${input.feature}" is not part of feature service "${svc.spec.name}"`,
          );
        if ((input.transform === 'one_hot' || input.transform === 'index') && !input.vocabulary) {
          p(m, `inputs[${i}].vocabulary`, `${input.transform} needs a vocabulary`);
        }
      });
    }
    for (const x of this.experiments.values()) {
      x.spec.arms.forEach((a, i) => {
        if (!this.models.has(a.model))
          p(
            x,
            `arms[${i}].model`,
            `unknown model "${a.model}"`,
            `known models: ${known(this.models)}`,
          );
      });
    }
    return problems;
  }
}

interface MapKeyRead {
  view: FeatureViewDef;
  field: string;
  path: string;
  key: string;
}

export function label(kind: ObjectKind): string {
  return kind.replaceAll('_', ' ');
}

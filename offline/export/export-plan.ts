/**
 * Planning a point-in-time export: which view features it needs (requested, or inputs of the
 * requested on-demand views), the output column names, the sources to read and the passes to
 * compute — the same for every engine.
 */
import { LarderError } from '../../core/errors.ts';
import { exprPaths } from '../../definitions/expr/expr.ts';
import type { Repository, ResolvedFeature } from '../../definitions/repository.ts';
import type { BatchSourceSpec, FeatureViewSpec } from '../../definitions/spec.ts';
import type { ExportRequest } from '../offline-store.ts';
import type { ColumnOf } from './on-demand.ts';
import { passKey, type Pass, type PassSource } from './pass.ts';

export interface ExportPlan {
  repo: Repository;
  /** The requested features, in output order. */
  features: readonly ResolvedFeature[];
  /** Output column names, one per feature. */
  outNames: string[];
  /** The requested on-demand views, first seen first. */
  odfvs: string[];
  /** View name → the features needed from it: requested, or inputs of `odfvs`. */
  needed: Map<string, Set<string>>;
  /** Request fields the on-demand views read from the entity rows. */
  requestFields: string[];
  /** A feature's internal column (`__f<n>`, numbered in the order first asked for). */
  columnOf: ColumnOf;
  /** The internal columns numbered so far, by `view:feature`. */
  columns: ReadonlyMap<string, string>;
}

/** Plans an export's features and output names; refuses two output columns of one name. */
export function planExport(req: ExportRequest): ExportPlan {
  const { repo, features } = req;
  const odfvs = [...new Set(features.filter((f) => f.onDemand).map((f) => f.view))];
  const needed = new Map<string, Set<string>>();
  const need = (view: string, feature: string): void => {
    if (!needed.has(view)) needed.set(view, new Set());
    needed.get(view)!.add(feature);
  };
  for (const f of features) if (!f.onDemand && !f.batch) need(f.view, f.feature);
  for (const name of odfvs) {
    for (const input of Object.values(repo.onDemandViews.get(name)!.spec.inputs))
      if (input.from === 'feature') need(input.view, input.feature);
  }
  const columns = new Map<string, string>();
  let n = 0;
  const columnOf = (view: string, feature: string): string => {
    const key = `${view}:${feature}`;
    if (!columns.has(key)) columns.set(key, `__f${n++}`);
    return columns.get(key)!;
  };

  const outNames = features.map((f) =>
    req.fullFeatureNames ? `${f.view}__${f.feature}` : f.feature,
  );
  const dup = outNames.find((x, i) => outNames.indexOf(x) !== i);
  if (dup) {
    const views = features.filter((f, i) => outNames[i] === dup).map((f) => f.view);
    throw new LarderError(
      'LARDER_BAD_REQUEST',
      `two features are both named "${dup}" (from ${views.join(' and ')})`,
      {
        detail: { reason: 'duplicate' },
        hint: 'pass --full-feature-names to name columns view__feature',
      },
    );
  }
  const requestFields = [
    ...new Set(
      odfvs.flatMap((name) =>
        Object.values(repo.onDemandViews.get(name)!.spec.inputs).flatMap((i) =>
          i.from === 'request' ? [i.field] : [],
        ),
      ),
    ),
  ];
  return { repo, features, outNames, odfvs, needed, requestFields, columnOf, columns };
}

/** The batch source a feature view reads (a stream view's batch source). */
export function viewSource(repo: Repository, view: string): BatchSourceSpec {
  const s = repo.featureViews.get(view)!.source;
  return ('batch' in s ? s.batch : s).spec as BatchSourceSpec;
}

/** The record paths a view reads: its keys, filter, and its features' inputs, wheres, weights. */
export function viewPaths(v: FeatureViewSpec, into = new Set<string>()): Set<string> {
  for (const node of [...Object.values(v.keys), v.filter])
    if (node) exprPaths(node).forEach((p) => into.add(p));
  for (const f of v.features)
    for (const node of [f.input, f.where, f.weight])
      if (node) exprPaths(node).forEach((p) => into.add(p));
  return into;
}

/** The sources the needed views read, first seen first, with the paths read from each. */
export function planSources(
  plan: ExportPlan,
): Map<string, { spec: BatchSourceSpec; paths: Set<string> }> {
  const out = new Map<string, { spec: BatchSourceSpec; paths: Set<string> }>();
  for (const [view] of plan.needed) {
    const spec = viewSource(plan.repo, view);
    const entry = out.get(spec.name) ?? { spec, paths: new Set<string>() };
    out.set(spec.name, entry);
    viewPaths(plan.repo.featureViews.get(view)!.spec, entry.paths);
  }
  return out;
}

/**
 * The passes of the needed views over their loaded sources (views sharing source, keys and
 * filter go into one pass), and the join keys they read (request fields excluded).
 */
export function planPasses(
  plan: ExportPlan,
  sources: ReadonlyMap<string, PassSource>,
): { passes: Pass[]; joinKeys: string[] } {
  const { repo } = plan;
  const passes = new Map<string, Pass>();
  const joinKeys = new Set<string>();
  for (const [view, feats] of plan.needed) {
    const def = repo.featureViews.get(view)!;
    const v = def.spec;
    const spec = viewSource(repo, view);
    const src = sources.get(spec.name)!;
    const keys = def.entityDefs.map((e) => e.spec.joinKey);
    keys.forEach((k) => joinKeys.add(k));
    const key = passKey(v, keys);
    let pass = passes.get(key);
    if (!pass) {
      pass = {
        schema: spec.schema,
        srcTable: src.table,
        timestampField: spec.timestampField,
        idField: spec.idField,
        keys: keys.map((k) => ({ joinKey: k, expr: v.keys[k]! })),
        filter: v.filter,
        features: [],
        fingerprint: src.fingerprint,
      };
      passes.set(key, pass);
    }
    for (const f of v.features)
      if (feats.has(f.name))
        pass.features.push({ col: plan.columnOf(view, f.name), view: v, feature: f });
  }
  for (const k of plan.requestFields) joinKeys.delete(k);
  return { passes: [...passes.values()], joinKeys: [...joinKeys] };
}

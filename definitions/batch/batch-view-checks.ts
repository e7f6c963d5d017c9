/** The repository's checks of batch views across objects (entities, sources, view names). */
import type { Problem } from '../../core/errors.ts';
import type { BatchViewDef } from '../dsl/batch-view.ts';

/** The parts of a Repository the checks read (it imports them: no cycle). */
interface Maps {
  batchViews: ReadonlyMap<string, BatchViewDef>;
  featureViews: ReadonlyMap<string, { definedAt: string }>;
  onDemandViews: ReadonlyMap<string, { definedAt: string }>;
  entities: ReadonlyMap<string, unknown>;
  batchSources: ReadonlyMap<string, unknown>;
  streamSources: ReadonlyMap<string, unknown>;
  pushSources: ReadonlyMap<string, unknown>;
}

/** Batch views share the view namespace with feature and on-demand views. */
export function batchViewNameClashes(repo: Maps): Problem[] {
  const out: Problem[] = [];
  for (const [name, bv] of repo.batchViews) {
    const other = repo.featureViews.get(name) ?? repo.onDemandViews.get(name);
    if (other)
      out.push({
        at: bv.definedAt,
        object: `batch view "${name}"`,
        field: 'name',
        message: `a view of the same name is defined at ${other.definedAt}`,
      });
  }
  return out;
}

/** Entities and sources a batch view names must be exported by the repository. */
export function batchViewProblems(repo: Maps): Problem[] {
  const out: Problem[] = [];
  for (const bv of repo.batchViews.values()) {
    const object = `batch view "${bv.spec.name}"`;
    for (const e of bv.spec.entities)
      if (!repo.entities.has(e))
        out.push({
          at: bv.definedAt,
          object,
          field: 'entities',
          message: `entity "${e}" is not exported by the repository`,
        });
    const src = bv.spec.source;
    if (!repo.batchSources.has(src) && !repo.streamSources.has(src) && !repo.pushSources.has(src))
      out.push({
        at: bv.definedAt,
        object,
        field: 'source',
        message: `source "${src}" is not exported by the repository`,
      });
  }
  return out;
}

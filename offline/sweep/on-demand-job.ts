/**
 * What a sweep worker runs of an export's on-demand step (bundled with the repository files that
 * define the views: `on-demand-bundle.ts`): {@link onDemandRows} over one range of rows.
 */
import type { OnDemandFeatureViewDef } from '../../definitions/dsl/on-demand.ts';
import { onDemandRows, type OnDemandInput, type OnDemandOutput } from '../export/on-demand-rows.ts';

/** One worker's share of an export's on-demand step (arrays in shared memory, the rest copied). */
export interface OnDemandJob {
  odfvs: string[];
  /** Each view's spec as JSON, as the main thread loaded it. */
  specs: Record<string, string>;
  columns: Record<string, string>;
  inputs: [string, OnDemandInput][];
  request: Record<string, unknown[]>;
  ts: Float64Array;
  outs: OnDemandOutput[];
  from: number;
  to: number;
}

const DEFINITION = Symbol.for('larder.definition');

/**
 * Runs `job` with the views found among `modules`' exports (as the repository loader finds
 * definitions); returns the string outputs (the numbers are written in place). Throws when a
 * view is missing or its spec differs from the main thread's.
 */
export function runOnDemandJob(
  modules: readonly Record<string, unknown>[],
  job: OnDemandJob,
): (string | null)[][] {
  const views = new Map<string, OnDemandFeatureViewDef>();
  for (const m of modules)
    for (const v of Object.values(m)) {
      const d = v as OnDemandFeatureViewDef | null;
      if (
        typeof d === 'object' &&
        d !== null &&
        (d as unknown as Record<symbol, unknown>)[DEFINITION] === true &&
        d.spec.kind === 'on_demand_feature_view' &&
        job.odfvs.includes(d.spec.name)
      )
        views.set(d.spec.name, d);
    }
  for (const name of job.odfvs)
    if (JSON.stringify(views.get(name)?.spec) !== job.specs[name])
      throw new Error(`on-demand view "${name}" differs from the main thread's`);
  for (const o of job.outs) if (o.type === 'string') o.strings = new Array(job.to - job.from);
  onDemandRows({ ...job, views, inputs: new Map(job.inputs) });
  return job.outs.flatMap((o) => (o.strings ? [o.strings] : []));
}

/**
 * `larder validate`: statistics of sources and features on the offline store, checked against
 * the expectations declared with the definitions (docs/monitoring.md).
 *
 * Sources: `sourceStatistics`, SQL where the source lives, over every top-level scalar field.
 * Feature views: the view's features exported over a time grid (`EntitySource` `grid`: every
 * entity key of the source at `start, start + every, …`, up to the last step before `end`)
 * into memory, then described by {@link valueStatistics}.
 *
 * @example
 * const report = await validate(store, repo, { target: { service: 'recommendation_v1' }, start, end, everyMs: 3_600_000 });
 * if (!report.passed) process.exitCode = 1;
 */
import { LarderError } from '../core/errors.ts';
import type { Repository } from '../definitions/repository.ts';
import type { ValueExpectation } from '../definitions/spec.ts';
import type { OfflineStore, SourceStatistics, ValueStatistics } from '../offline/offline-store.ts';
import { gridValues } from '../offline/statistics/grid-values.ts';
import { checkSource, checkValue, type ExpectationCheck } from './check-expectations.ts';
import { valueStatistics } from './value-statistics.ts';

/**
 * What to validate: one source, one view, some views, a service's feature views, or every
 * batch source and feature view that declares `expect`. A view brings its source.
 */
export type ValidateTarget =
  | { source: string }
  | { view: string }
  | { views: readonly string[] }
  | { service: string }
  | { all: true };

export interface ValidateOptions {
  target: ValidateTarget;
  /** The range `[start, end)` (epoch ms); freshness is measured at `end`. */
  start: number;
  end: number;
  /** The step of the feature views' time grid. */
  everyMs: number;
  /** The gate: it fails when the share of passed checks is under this (default 1: any failure). */
  failUnder?: number;
}

export interface ViewStatistics {
  view: string;
  /** Grid rows: entity keys × grid times. */
  rows: number;
  features: ValueStatistics[];
}

export interface ValidationReport {
  store: string;
  start: number;
  end: number;
  everyMs: number;
  sources: SourceStatistics[];
  views: ViewStatistics[];
  checks: ExpectationCheck[];
  /** Passed checks / checks (1 without any). */
  passRate: number;
  failUnder: number;
  /** `passRate >= failUnder`. */
  passed: boolean;
}

/** The batch sources and feature views a target names. */
export function validationTargets(
  repo: Repository,
  target: ValidateTarget,
): { sources: string[]; views: string[] } {
  const batchOf = (name: string): string => {
    if (repo.batchSources.has(name)) return name;
    const s = repo.streamSources.get(name) ?? repo.pushSources.get(name);
    if (s) return s.batch.spec.name;
    throw new LarderError('LARDER_NOT_FOUND', `unknown source "${name}"`, {
      hint: `known sources: ${[...repo.batchSources.keys(), ...repo.streamSources.keys(), ...repo.pushSources.keys()].join(', ')}`,
    });
  };
  const viewSource = (view: string): string => batchOf(repo.featureViews.get(view)!.spec.source);
  let views: string[];
  if ('source' in target) return { sources: [batchOf(target.source)], views: [] };
  if ('view' in target || 'views' in target) {
    views = 'view' in target ? [target.view] : [...target.views];
    for (const v of views)
      if (!repo.featureViews.has(v))
        throw new LarderError('LARDER_NOT_FOUND', `unknown feature view "${v}"`, {
          hint: `known feature views: ${[...repo.featureViews.keys()].join(', ')}`,
        });
  } else if ('service' in target) {
    const svc = repo.services.get(target.service);
    if (!svc)
      throw new LarderError('LARDER_NOT_FOUND', `unknown feature service "${target.service}"`, {
        hint: `known services: ${[...repo.services.keys()].join(', ')}`,
      });
    // On-demand and batch views are computed from these (or from snapshots): not validated here.
    views = [...new Set(svc.spec.projections.map((p) => p.view))].filter((v) =>
      repo.featureViews.has(v),
    );
  } else {
    // Drift bounds are `larder drift`'s: a view declaring only those has nothing to check here.
    const checked = (e: Record<string, ValueExpectation> | undefined): boolean =>
      Object.values(e ?? {}).some((x) => Object.keys(x).some((k) => k !== 'drift'));
    views = [...repo.featureViews.values()]
      .filter((v) => checked(v.spec.expect))
      .map((v) => v.spec.name);
    const sources = [...repo.batchSources.values()]
      .filter((s) => s.spec.expect)
      .map((s) => s.spec.name);
    return { sources, views };
  }
  return { sources: [...new Set(views.map(viewSource))], views };
}

export async function validate(
  store: OfflineStore,
  repo: Repository,
  opts: ValidateOptions,
): Promise<ValidationReport> {
  if (!store.capabilities.sourceStatistics || !store.sourceStatistics)
    throw new LarderError(
      'LARDER_BAD_REQUEST',
      `the ${store.type} offline store cannot compute statistics`,
      {
        detail: { reason: 'unsupported_operation' },
      },
    );
  const { sources, views } = validationTargets(repo, opts.target);
  const checks: ExpectationCheck[] = [];
  const sourceStats: SourceStatistics[] = [];
  for (const name of sources) {
    const spec = repo.batchSources.get(name)!.spec;
    const fields = Object.entries(spec.schema.fields)
      .filter(([, f]) => ['string', 'int64', 'float64', 'bool'].includes(f.kind))
      .map(([field]) => {
        const allowed = spec.expect?.fields[field]?.allowed;
        return { name: field, ...(allowed ? { allowed } : {}) };
      });
    const s = await store.sourceStatistics({
      repo,
      source: name,
      start: opts.start,
      end: opts.end,
      fields,
      ...(spec.expect?.minRows ? { periodMs: spec.expect.minRows.perMs } : {}),
    });
    sourceStats.push(s);
    if (spec.expect) checks.push(...checkSource(spec.expect, s));
  }
  const viewStats: ViewStatistics[] = [];
  for (const name of views) {
    const view = repo.featureViews.get(name)!.spec;
    const grid = await gridValues(
      store,
      repo,
      name,
      view.features.map((f) => f.name),
      opts,
    );
    const features = view.features.map((f) => {
      const allowed = view.expect?.[f.name]?.allowed;
      return valueStatistics(f.name, f.type, grid.columns.get(f.name)!, allowed ? { allowed } : {});
    });
    viewStats.push({ view: name, rows: grid.rows, features });
    for (const [feature, e] of Object.entries(view.expect ?? {}))
      checks.push(
        ...checkValue(
          `feature_view:${name}`,
          e,
          features.find((f) => f.name === feature)!,
        ),
      );
  }
  const passRate = checks.length === 0 ? 1 : checks.filter((c) => c.passed).length / checks.length;
  const failUnder = opts.failUnder ?? 1;
  return {
    store: store.type,
    start: opts.start,
    end: opts.end,
    everyMs: opts.everyMs,
    sources: sourceStats,
    views: viewStats,
    checks,
    passRate,
    failUnder,
    passed: passRate >= failUnder,
  };
}

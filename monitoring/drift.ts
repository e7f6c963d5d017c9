/**
 * Drift of a service's features between a reference and a current sample: per feature PSI and
 * a two-sample test — KS for numbers (int64, float64), chi-square for categories (string,
 * bool) — and whether it drifted (PSI above its bound or p below it). Each sample is a training
 * export file, the values the service served in a window (its feature log), or the offline
 * values of a window (the export pipeline over a time grid, as `larder validate` describes a
 * view). The bounds are the feature's `expect: { drift }` where declared, else the given
 * thresholds. List features are not compared (docs/monitoring.md "Drift").
 */
import { formatDuration } from '../core/duration.ts';
import type { LarderConfig } from '../config/config.ts';
import { LarderError } from '../core/errors.ts';
import type { Repository, ResolvedFeature } from '../definitions/repository.ts';
import { createOfflineStore } from '../offline/create-offline-store.ts';
import { DuckDBClient } from '../offline/local/duckdb-client.ts';
import type { OfflineStore } from '../offline/offline-store.ts';
import { gridValues } from '../offline/statistics/grid-values.ts';
import {
  binCounts,
  categoricalPsi,
  categoryCounts,
  chiSquareTwoSample,
  DRIFT_DEFAULTS,
  ksTwoSample,
  numericPsi,
  quantileEdges,
} from './drift-stats.ts';
import { logDestinations, readServiceLogs } from './skew.ts';

/** Defaults of the thresholds: PSI above 0.2, or p below 0.01, is drift. */
export { DRIFT_DEFAULTS };

/** One side of the comparison. */
export type DriftSample =
  /** A training export (`larder export` output: .parquet, .csv or .jsonl). */
  | { type: 'file'; path: string }
  /** The values the service served with `start ≤ ts < end` (its feature log). */
  | { type: 'logs'; start: number; end: number }
  /** The offline values at `start, start + every, …` before `end`, every entity key. */
  | { type: 'offline'; start: number; end: number; everyMs: number };

/** A sample as the report shows it (times ISO-8601). */
export type DriftSampleReport =
  | { type: 'file'; path: string }
  | { type: 'logs'; start: string; end: string }
  | { type: 'offline'; start: string; end: string; every: string };

/** Where a feature's bound came from: its `expect: { drift }`, or the thresholds given. */
export type ThresholdSource = 'expect' | 'flag';

export interface FeatureDrift {
  feature: string;
  kind: 'numeric' | 'categorical';
  test: 'ks' | 'chi_square';
  referenceCount: number;
  currentCount: number;
  psi: number;
  statistic: number;
  pValue: number;
  /** The bounds this feature was judged by, and where each came from. */
  thresholds: { psi: number; p: number };
  thresholdSource: { psi: ThresholdSource; p: ThresholdSource };
  drifted: boolean;
  /** The distributions, for plots: bin labels and the share of each sample per bin. */
  bins: { labels: string[]; reference: number[]; current: number[] };
}

export interface DriftReport {
  service: string;
  reference: DriftSampleReport;
  current: DriftSampleReport;
  /** The thresholds given (flags or their defaults), for features without `expect: { drift }`. */
  thresholds: { psi: number; p: number };
  features: FeatureDrift[];
  /** Features not compared (lists, absent from the reference, not on a grid), with why. */
  skipped: { feature: string; reason: string }[];
  generatedAt: string;
}

const shares = (c: readonly number[]): number[] => {
  const t = c.reduce((a, b) => a + b, 0);
  return c.map((x) => (t === 0 ? 0 : x / t));
};

const num = (v: unknown): number | null =>
  v === null || v === undefined ? null : typeof v === 'number' ? v : Number(v);

/**
 * Drift of one feature's two samples. An empty sample compares nothing: PSI, statistic and p
 * are NaN and the feature has not drifted.
 */
export function featureDrift(
  feature: string,
  kind: 'numeric' | 'categorical',
  reference: readonly unknown[],
  current: readonly unknown[],
  thresholds: { psi: number; p: number } = DRIFT_DEFAULTS,
  thresholdSource: FeatureDrift['thresholdSource'] = { psi: 'flag', p: 'flag' },
): FeatureDrift {
  const judged = { thresholds: { psi: thresholds.psi, p: thresholds.p }, thresholdSource };
  const empty = reference.length === 0 || current.length === 0;
  if (kind === 'numeric') {
    const r = reference.map(num);
    const c = current.map(num);
    const present = (xs: (number | null)[]): number[] =>
      xs.filter((x): x is number => x !== null && !Number.isNaN(x));
    const edges = quantileEdges(present(r));
    const ks = ksTwoSample(present(r), present(c));
    const p = empty ? NaN : numericPsi(r, c);
    const labels = [
      ...[...edges, Infinity].map((e) => `≤ ${Number.isFinite(e) ? +e.toPrecision(4) : '∞'}`),
      'null',
    ];
    return {
      feature,
      kind,
      test: 'ks',
      referenceCount: r.length,
      currentCount: c.length,
      psi: p,
      statistic: ks.statistic,
      pValue: ks.pValue,
      ...judged,
      drifted: !empty && (p > thresholds.psi || ks.pValue < thresholds.p),
      bins: {
        labels,
        reference: shares(binCounts(r, edges)),
        current: shares(binCounts(c, edges)),
      },
    };
  }
  const counts = categoryCounts(reference, current);
  const chi = chiSquareTwoSample(counts.reference, counts.current);
  const p = empty ? NaN : categoricalPsi(reference, current);
  return {
    feature,
    kind,
    test: 'chi_square',
    referenceCount: reference.length,
    currentCount: current.length,
    psi: p,
    statistic: chi.statistic,
    pValue: chi.pValue,
    ...judged,
    drifted: !empty && (p > thresholds.psi || chi.pValue < thresholds.p),
    bins: {
      labels: counts.categories,
      reference: shares(counts.reference),
      current: shares(counts.current),
    },
  };
}

/**
 * A feature's bounds: its view's `expect: { <feature>: { drift } }` bound by bound where
 * declared, else `given`.
 */
export function featureThresholds(
  repo: Repository,
  f: Pick<ResolvedFeature, 'view' | 'feature'>,
  given: { psi: number; p: number },
): Pick<FeatureDrift, 'thresholds' | 'thresholdSource'> {
  const d = repo.featureViews.get(f.view)?.spec.expect?.[f.feature]?.drift;
  return {
    thresholds: { psi: d?.maxPsi ?? given.psi, p: d?.minPValue ?? given.p },
    thresholdSource: {
      psi: d?.maxPsi !== undefined ? 'expect' : 'flag',
      p: d?.minPValue !== undefined ? 'expect' : 'flag',
    },
  };
}

const sqlString = (s: string): string => `'${s.replace(/'/g, "''")}'`;

const iso = (t: number): string => new Date(t).toISOString();

/** A sample as the report shows it. */
export function sampleReport(s: DriftSample): DriftSampleReport {
  if (s.type === 'file') return s;
  if (s.type === 'logs') return { type: 'logs', start: iso(s.start), end: iso(s.end) };
  return {
    type: 'offline',
    start: iso(s.start),
    end: iso(s.end),
    every: formatDuration(s.everyMs),
  };
}

/** `train.parquet`, `values served in [a, b)`, `offline values in [a, b) every 1h`. */
export function describeSample(s: DriftSampleReport): string {
  if (s.type === 'file') return s.path;
  if (s.type === 'logs') return `values served in [${s.start}, ${s.end})`;
  return `offline values in [${s.start}, ${s.end}) every ${s.every}`;
}

/** `PSI > 0.1* or p < 0.01`: a feature's bounds, `*` on those from its expectation. */
export const describeBounds = (f: Pick<FeatureDrift, 'thresholds' | 'thresholdSource'>): string =>
  `PSI > ${f.thresholds.psi}${f.thresholdSource.psi === 'expect' ? '*' : ''} or p < ${f.thresholds.p}${f.thresholdSource.p === 'expect' ? '*' : ''}`;

/** Rows of a reference file, each a column name → value. */
async function readFile(path: string): Promise<Record<string, unknown>[]> {
  const db = await DuckDBClient.open({ threads: '1' });
  try {
    return await db.all(`SELECT * FROM ${sqlString(path)}`);
  } catch (e) {
    throw new LarderError('LARDER_BAD_REQUEST', `--reference ${path}: cannot be read`, {
      hint: 'give a larder export output (.parquet, .csv or .jsonl)',
      detail: { reason: 'malformed_file' },
      cause: e,
    });
  } finally {
    db.close();
  }
}

/** Per compared feature, its values in a sample, or why it has none. */
type SampleValues = (f: ResolvedFeature) => unknown[] | { skip: string };

async function sampleValues(
  s: DriftSample,
  ctx: {
    config: Pick<LarderConfig, 'dataDir'>;
    repo: Repository;
    service: string;
    features: readonly ResolvedFeature[];
    offline: () => Promise<OfflineStore>;
  },
): Promise<SampleValues> {
  const full = (f: ResolvedFeature): string => `${f.view}__${f.feature}`;
  if (s.type === 'file') {
    const rows = await readFile(s.path);
    const columns = new Set(rows.length > 0 ? Object.keys(rows[0]!) : []);
    return (f) => {
      const name = columns.has(f.feature) ? f.feature : columns.has(full(f)) ? full(f) : null;
      return name === null
        ? { skip: 'not a column of the reference' }
        : rows.map((r) => r[name] ?? null);
    };
  }
  if (s.type === 'logs') {
    if (logDestinations(ctx.repo, ctx.service).size === 0)
      throw new LarderError(
        'LARDER_BAD_REQUEST',
        `feature service "${ctx.service}" is not logged`,
        {
          hint: 'declare logging: { sample: 1 } on the service and serve it, or compare offline values (--current offline)',
          detail: { reason: 'invalid_option' },
        },
      );
    const logged = await readServiceLogs(ctx.config, ctx.repo, ctx.service, s.start, s.end);
    return (f) => logged.map((r) => r.values[f.feature] ?? r.values[full(f)] ?? null);
  }
  // Offline: each feature view's features over the grid, one export per view.
  const byView = new Map<string, string[]>();
  for (const f of ctx.features)
    if (ctx.repo.featureViews.has(f.view) && !f.type.endsWith('_list'))
      byView.set(f.view, [...(byView.get(f.view) ?? []), f.feature]);
  const values = new Map<string, unknown[]>();
  const store = await ctx.offline();
  for (const [view, names] of byView) {
    const grid = await gridValues(store, ctx.repo, view, names, s);
    for (const [name, column] of grid.columns) values.set(`${view}__${name}`, column);
  }
  return (f) =>
    values.get(full(f)) ?? {
      skip: `${f.onDemand ? 'an on-demand' : 'a batch view'} feature has no offline values on a time grid`,
    };
}

/**
 * @example
 * const r = await driftReport({
 *   config, repo, service: 'recommendation_v1',
 *   reference: { type: 'offline', start: jan1, end: feb1, everyMs: 86_400_000 },
 *   current: { type: 'logs', start: mar1, end: mar2 },
 * });
 * r.features.filter((f) => f.drifted);
 */
export async function driftReport(opts: {
  config: Pick<LarderConfig, 'dataDir'> &
    Partial<Pick<LarderConfig, 'offlineStore' | 'home' | 'ingest' | 'trace'>>;
  repo: Repository;
  service: string;
  reference: DriftSample;
  current: DriftSample;
  /** The thresholds of features without `expect: { drift }` (default {@link DRIFT_DEFAULTS}). */
  thresholds?: { psi: number; p: number };
  /** The offline store of `offline` samples (default: one from `config`, closed after). */
  offline?: OfflineStore;
}): Promise<DriftReport> {
  const { repo, service } = opts;
  const features = repo.resolveFeatures({ service });
  const thresholds = opts.thresholds ?? DRIFT_DEFAULTS;
  // An offline store of our own only when an offline sample needs one and none was given.
  const opened: { store?: OfflineStore } = {};
  const offline = async (): Promise<OfflineStore> => {
    if (opts.offline) return opts.offline;
    if (!opened.store) {
      const { offlineStore, home } = opts.config;
      if (!offlineStore || home === undefined)
        throw new Error('driftReport: an offline sample needs config.offlineStore or opts.offline');
      opened.store = createOfflineStore({ ...opts.config, offlineStore, home });
      await opened.store.init();
    }
    return opened.store;
  };
  const compared = features.filter((f) => !f.type.endsWith('_list'));
  const ctx = { config: opts.config, repo, service, features: compared, offline };
  let reference: SampleValues;
  let current: SampleValues;
  try {
    reference = await sampleValues(opts.reference, ctx);
    current = await sampleValues(opts.current, ctx);
  } finally {
    await opened.store?.close();
  }
  const out: FeatureDrift[] = [];
  const skipped: DriftReport['skipped'] = [];
  for (const f of features) {
    if (f.type.endsWith('_list')) {
      skipped.push({ feature: f.feature, reason: 'list features are not compared' });
      continue;
    }
    const r = reference(f);
    const c = current(f);
    if (!Array.isArray(r) || !Array.isArray(c)) {
      const why = !Array.isArray(r) ? r : (c as { skip: string });
      skipped.push({ feature: f.feature, reason: why.skip });
      continue;
    }
    const kind = f.type === 'int64' || f.type === 'float64' ? 'numeric' : 'categorical';
    const t = featureThresholds(repo, f, thresholds);
    out.push(featureDrift(f.feature, kind, r, c, t.thresholds, t.thresholdSource));
  }
  return {
    service,
    reference: sampleReport(opts.reference),
    current: sampleReport(opts.current),
    thresholds: { psi: thresholds.psi, p: thresholds.p },
    features: out,
    skipped,
    generatedAt: new Date().toISOString(),
  };
}

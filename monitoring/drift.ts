/**
 * Drift of a service's features between a reference (a training export file) and the values
 * the service served in a window (its feature log): per feature PSI and a two-sample test — KS
 * for numbers (int64, float64), chi-square for categories (string, bool) — and whether it
 * drifted (PSI above the threshold or p below it). List features are not compared
 * (docs/monitoring.md "Drift").
 */
import type { LarderConfig } from '../config/config.ts';
import { LarderError } from '../core/errors.ts';
import type { Repository } from '../definitions/repository.ts';
import { DuckDBClient } from '../offline/local/duckdb-client.ts';
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
import { readLoggedRows } from './skew.ts';
import { join } from 'node:path';

/** Defaults of the thresholds: PSI above 0.2, or p below 0.01, is drift. */
export { DRIFT_DEFAULTS };

export interface FeatureDrift {
  feature: string;
  kind: 'numeric' | 'categorical';
  test: 'ks' | 'chi_square';
  referenceCount: number;
  currentCount: number;
  psi: number;
  statistic: number;
  pValue: number;
  drifted: boolean;
  /** The distributions, for plots: bin labels and the share of each sample per bin. */
  bins: { labels: string[]; reference: number[]; current: number[] };
}

export interface DriftReport {
  service: string;
  reference: string;
  start: string;
  end: string;
  thresholds: { psi: number; p: number };
  features: FeatureDrift[];
  /** Features not compared (lists, or absent from the reference), with why. */
  skipped: { feature: string; reason: string }[];
  generatedAt: string;
}

const shares = (c: readonly number[]): number[] => {
  const t = c.reduce((a, b) => a + b, 0);
  return c.map((x) => (t === 0 ? 0 : x / t));
};

const num = (v: unknown): number | null =>
  v === null || v === undefined ? null : typeof v === 'number' ? v : Number(v);

/** Drift of one feature's two samples. */
export function featureDrift(
  feature: string,
  kind: 'numeric' | 'categorical',
  reference: readonly unknown[],
  current: readonly unknown[],
  thresholds: { psi: number; p: number } = DRIFT_DEFAULTS,
): FeatureDrift {
  if (kind === 'numeric') {
    const r = reference.map(num);
    const c = current.map(num);
    const present = (xs: (number | null)[]): number[] =>
      xs.filter((x): x is number => x !== null && !Number.isNaN(x));
    const edges = quantileEdges(present(r));
    const ks = ksTwoSample(present(r), present(c));
    const p = numericPsi(r, c);
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
      drifted: p > thresholds.psi || ks.pValue < thresholds.p,
      bins: {
        labels,
        reference: shares(binCounts(r, edges)),
        current: shares(binCounts(c, edges)),
      },
    };
  }
  const counts = categoryCounts(reference, current);
  const chi = chiSquareTwoSample(counts.reference, counts.current);
  const p = categoricalPsi(reference, current);
  return {
    feature,
    kind,
    test: 'chi_square',
    referenceCount: reference.length,
    currentCount: current.length,
    psi: p,
    statistic: chi.statistic,
    pValue: chi.pValue,
    drifted: p > thresholds.psi || chi.pValue < thresholds.p,
    bins: {
      labels: counts.categories,
      reference: shares(counts.reference),
      current: shares(counts.current),
    },
  };
}

const sqlString = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/**
 * @example
 * const r = await driftReport({ config, repo, service: 'recommendation_v1', reference: 'train.parquet', start, end });
 * r.features.filter((f) => f.drifted);
 */
export async function driftReport(opts: {
  config: Pick<LarderConfig, 'dataDir'>;
  repo: Repository;
  service: string;
  /** A `larder export` output: .parquet, .csv or .jsonl. */
  reference: string;
  start: number;
  end: number;
  thresholds?: { psi: number; p: number };
}): Promise<DriftReport> {
  const features = opts.repo.resolveFeatures({ service: opts.service });
  const thresholds = opts.thresholds ?? DRIFT_DEFAULTS;
  const db = await DuckDBClient.open({ threads: '1' });
  let refRows: Record<string, unknown>[];
  try {
    refRows = await db.all(`SELECT * FROM ${sqlString(opts.reference)}`);
  } catch (e) {
    throw new LarderError('LARDER_BAD_REQUEST', `--reference ${opts.reference}: cannot be read`, {
      hint: 'give a larder export output (.parquet, .csv or .jsonl)',
      detail: { reason: 'malformed_file' },
      cause: e,
    });
  } finally {
    db.close();
  }
  const logged = await readLoggedRows(
    join(opts.config.dataDir, 'logs'),
    opts.service,
    opts.start,
    opts.end,
  );
  const columns = new Set(refRows.length > 0 ? Object.keys(refRows[0]!) : []);
  const out: FeatureDrift[] = [];
  const skipped: DriftReport['skipped'] = [];
  for (const f of features) {
    const full = `${f.view}__${f.feature}`;
    const refName = columns.has(f.feature) ? f.feature : columns.has(full) ? full : null;
    if (f.type.endsWith('_list')) {
      skipped.push({ feature: f.feature, reason: 'list features are not compared' });
      continue;
    }
    if (refName === null) {
      skipped.push({ feature: f.feature, reason: 'not a column of the reference' });
      continue;
    }
    const kind = f.type === 'int64' || f.type === 'float64' ? 'numeric' : 'categorical';
    const current = logged.map((r) => r.values[f.feature] ?? r.values[full] ?? null);
    out.push(
      featureDrift(
        f.feature,
        kind,
        refRows.map((r) => r[refName] ?? null),
        current,
        thresholds,
      ),
    );
  }
  return {
    service: opts.service,
    reference: opts.reference,
    start: new Date(opts.start).toISOString(),
    end: new Date(opts.end).toISOString(),
    thresholds,
    features: out,
    skipped,
    generatedAt: new Date().toISOString(),
  };
}

/**
 * `skew`: per feature of the newest `larder skew` report of a service, the share of logged
 * values that differ offline. `drift`: per feature of a service, `larder drift` of the
 * reference against the feature log of `[now − window, now)`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseAlertDuration, type AlertRuleOf } from '../../config/alerts-config.ts';
import type { DriftReport } from '../../monitoring/drift.ts';
import { skewReportPath, type SkewReport } from '../../monitoring/skew.ts';
import type { Observation } from '../alert-types.ts';

export function skewSignal(rule: AlertRuleOf<'skew'>, home: string): Observation[] {
  const path = skewReportPath(home, rule.service);
  if (!existsSync(path))
    throw new Error(`no skew report at ${path}: run larder skew --service ${rule.service} first`);
  const report = JSON.parse(readFileSync(path, 'utf8')) as SkewReport;
  return report.features.map((f) => ({
    labels: { service: rule.service, feature: f.feature },
    value: f.share,
    threshold: rule.maxShare,
    breached: f.share > rule.maxShare,
    summary: `${f.differing} of ${f.compared} served ${f.feature} values of ${rule.service} differ offline (share ${f.share.toFixed(4)}, at most ${rule.maxShare}; report of ${report.generatedAt})`,
  }));
}

/** Computes a drift report (monitoring/drift.ts `driftReport`). */
export type RunDrift = (
  rule: AlertRuleOf<'drift'>,
  start: number,
  end: number,
) => Promise<DriftReport>;

export async function driftSignal(
  rule: AlertRuleOf<'drift'>,
  now: number,
  runDrift: RunDrift,
): Promise<Observation[]> {
  const window = parseAlertDuration(rule.window) as number;
  const report = await runDrift(rule, now - window, now);
  return report.features.map((f) => ({
    labels: { service: rule.service, feature: f.feature },
    value: f.psi,
    threshold: rule.psiThreshold,
    breached: f.drifted,
    summary: `${f.feature} of ${rule.service}: PSI ${f.psi.toFixed(4)} (at most ${rule.psiThreshold}), ${f.test} p ${Number.isNaN(f.pValue) ? 'n/a' : f.pValue.toPrecision(3)} (at least ${rule.pThreshold}) over ${f.currentCount} served value(s)`,
  }));
}

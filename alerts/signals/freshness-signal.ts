/**
 * `freshness`: per feature view, the age of its newest materialized value — now minus the
 * view's materialization watermark in the registry file (what `larder materialize` and the
 * scheduler record, and what the dashboard's Freshness tab shows as the watermark). Without
 * `views`, every online view that has a watermark; a view named in `views` that was never
 * materialized fires.
 */
import { parseAlertDuration, type AlertRuleOf } from '../../config/alerts-config.ts';
import { formatAge } from './format-age.ts';
import type { Observation } from '../alert-types.ts';

export function freshnessSignal(
  rule: AlertRuleOf<'freshness'>,
  onlineViews: readonly string[],
  watermarks: Readonly<Record<string, number>>,
  now: number,
): Observation[] {
  const maxAgeMs = parseAlertDuration(rule.maxAge) as number;
  const views = rule.views ?? onlineViews.filter((v) => watermarks[v] !== undefined);
  return views.map((view) => {
    const w = watermarks[view];
    if (w === undefined)
      return {
        labels: { view },
        value: Number.MAX_SAFE_INTEGER,
        threshold: maxAgeMs,
        breached: true,
        summary: `${view} has never been materialized (at most ${rule.maxAge} old)`,
      };
    const age = now - w;
    return {
      labels: { view },
      value: age,
      threshold: maxAgeMs,
      breached: age > maxAgeMs,
      summary: `${view}'s newest materialized value is ${formatAge(age)} old (watermark ${new Date(w).toISOString()}; at most ${rule.maxAge})`,
    };
  });
}

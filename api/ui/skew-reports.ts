/**
 * `GET /ui/api/skew`: the newest `larder skew` report of each service (`$LARDER_HOME/skew/*.json`,
 * docs/monitoring.md "Skew"), by service name; an unreadable file is left out.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { skewReportPath, type SkewReport } from '../../monitoring/skew.ts';

export function skewReportsJson(home: string): { reports: SkewReport[] } {
  const dir = dirname(skewReportPath(home, 'x'));
  if (!existsSync(dir)) return { reports: [] };
  const reports: SkewReport[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (!name.endsWith('.json')) continue;
    try {
      const r = JSON.parse(readFileSync(`${dir}/${name}`, 'utf8')) as SkewReport;
      if (typeof r.service === 'string' && Array.isArray(r.features)) reports.push(r);
    } catch {
      // A report being written, or not a report: not shown.
    }
  }
  return { reports };
}

/**
 * `expectation_failed`: one observation per check of a validation report — the newest
 * `larder validate` report (`$LARDER_HOME/validation/validation.json`), or, for a rule with
 * `run`, a report of its own (`$LARDER_HOME/alerts/validation-<rule>.json`) that the rule
 * refreshes by validating `[now − window, now)` on the offline store once `run.every` has
 * passed since the previous run.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAlertDuration, type AlertRuleOf } from '../../config/alerts-config.ts';
import { writeFileAtomic } from '../../core/write-file-atomic.ts';
import type { ValidateTarget, ValidationReport } from '../../quality/validate.ts';
import type { Observation, SignalMemory } from '../alert-types.ts';

/** Validates a target over `[start, end)` (the offline store is opened and closed by it). */
export type RunValidation = (
  target: ValidateTarget,
  start: number,
  end: number,
  everyMs: number,
) => Promise<ValidationReport>;

export const ruleReportPath = (home: string, rule: string): string =>
  join(home, 'alerts', `validation-${rule}.json`);

function targetOf(run: NonNullable<AlertRuleOf<'expectation_failed'>['run']>): ValidateTarget {
  if (run.source) return { source: run.source };
  if (run.view) return { view: run.view };
  if (run.service) return { service: run.service };
  return { all: true };
}

export async function expectationSignal(
  rule: AlertRuleOf<'expectation_failed'>,
  home: string,
  now: number,
  memory: SignalMemory,
  runValidation: RunValidation,
): Promise<Observation[]> {
  let path = join(home, 'validation', 'validation.json');
  if (rule.run) {
    path = ruleReportPath(home, rule.name);
    const key = `validate:${rule.name}`;
    const every = parseAlertDuration(rule.run.every) as number;
    const last = memory[key];
    if (!last || !existsSync(path) || now - last.at >= every) {
      const window = parseAlertDuration(rule.run.window) as number;
      const report = await runValidation(targetOf(rule.run), now - window, now, every);
      writeFileAtomic(path, `${JSON.stringify(report, null, 2)}\n`);
      memory[key] = { at: now, total: report.checks.length };
    }
  } else if (!existsSync(path)) {
    throw new Error(`no validation report at ${path}: run larder validate first`);
  }
  const report = JSON.parse(readFileSync(path, 'utf8')) as ValidationReport;
  return report.checks.map((c) => ({
    labels: {
      object: c.object,
      ...(c.subject === null ? {} : { subject: c.subject }),
      expectation: c.expectation,
    },
    value: c.passed ? 0 : 1,
    threshold: 0,
    breached: !c.passed,
    summary: `${c.object}${c.subject === null ? '' : ` ${c.subject}`} ${c.expectation}: expected ${c.expected}, found ${c.actual}`,
  }));
}

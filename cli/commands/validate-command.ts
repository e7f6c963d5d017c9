/**
 * `larder validate`: statistics and expectations on the offline store, a JSON and an HTML
 * report, and a gate — exit 1 with LARDER_EXPECTATION_FAILED when the share of passed checks
 * is under `--fail-under` (docs/monitoring.md). `materialize --validate` runs it first.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { parseDuration } from '../../core/duration.ts';
import { LarderError } from '../../core/errors.ts';
import type { ValidateTarget, ValidationReport } from '../../quality/validate.ts';
import type { Repository } from '../../definitions/repository.ts';
import { cliConfig, cliRepository, type GlobalOptions } from '../context.ts';
import { info, printJson, table } from '../output.ts';
import { parseTime } from '../time.ts';

interface Flags {
  source?: string;
  view?: string;
  service?: string;
  start?: string;
  end?: string;
  every: string;
  failUnder?: string;
  out?: string;
  json?: boolean;
}

const DAY = 86_400_000;
const badOption = (message: string, hint?: string): LarderError =>
  new LarderError('LARDER_BAD_REQUEST', message, {
    ...(hint ? { hint } : {}),
    detail: { reason: 'invalid_option' },
  });

/** `--fail-under`: a share 0..1 or a percentage (`95%`). */
export function parseFailUnder(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$/.exec(text);
  const r = m ? Number(m[1]) / (m[2] ? 100 : 1) : NaN;
  if (!(r >= 0 && r <= 1))
    throw badOption(
      `--fail-under "${text}" is not a pass rate`,
      'pass a share from 0 to 1 (0.95) or a percentage (95%)',
    );
  return r;
}

export interface ValidationRun {
  /** A target, or one chosen from the loaded repository (`materialize --validate`). */
  target: ValidateTarget | ((repo: Repository) => ValidateTarget);
  start: number;
  end: number;
  everyMs: number;
  failUnder: number;
  /** Folder of `validation.json` and `validation.html` (default `<LARDER_HOME>/validation`). */
  out?: string;
}

/**
 * Validates, writes the two report files and prints the checks (or the report);
 * throws LARDER_EXPECTATION_FAILED when the gate fails. Shared with `materialize --validate`.
 */
export async function runValidation(
  globals: GlobalOptions,
  run: ValidationRun,
  /** The checks as a table, the report as JSON, or nothing (`materialize --validate --json`). */
  print: 'text' | 'json' | 'none',
): Promise<ValidationReport> {
  const config = await cliConfig(globals);
  const repo = await cliRepository(config);
  const [{ createOfflineStore }, { reportHtml }, { validate }] = await Promise.all([
    import('../../offline/create-offline-store.ts'),
    import('../../quality/report-html.ts'),
    import('../../quality/validate.ts'),
  ]);
  const store = createOfflineStore(config);
  let report: ValidationReport;
  await store.init();
  try {
    const target = typeof run.target === 'function' ? run.target(repo) : run.target;
    report = await validate(store, repo, { ...run, target });
  } finally {
    await store.close();
  }
  const dir = resolve(run.out ?? join(config.home, 'validation'));
  mkdirSync(dir, { recursive: true });
  const files = { json: join(dir, 'validation.json'), html: join(dir, 'validation.html') };
  writeFileSync(files.json, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(files.html, reportHtml(report));
  const failed = report.checks.filter((c) => !c.passed);
  const summary = `${report.checks.length - failed.length} of ${report.checks.length} checks passed (${(report.passRate * 100).toFixed(1)}%, gate ${(report.failUnder * 100).toFixed(1)}%)`;
  if (print === 'json') printJson({ ...report, files });
  else if (print === 'text') {
    if (report.checks.length > 0)
      console.log(
        table(
          report.checks.map((c) => [
            c.passed ? 'ok' : 'FAILED',
            c.object,
            c.subject ?? '',
            c.expected,
            c.actual,
          ]),
          ['CHECK', 'OBJECT', 'FIELD', 'EXPECTED', 'FOUND'],
        ),
      );
    info(
      `${summary} over ${report.sources.length} source(s) and ${report.views.length} view(s); report: ${files.html}`,
    );
  }
  if (!report.passed)
    throw new LarderError(
      'LARDER_EXPECTATION_FAILED',
      `${failed.length} expectation check(s) failed: ${summary}`,
      { hint: `see ${files.html} (and ${files.json})` },
    );
  return report;
}

/** The validation run the flags describe (checked before anything is loaded). */
export function validationRun(
  o: Pick<Flags, 'start' | 'end' | 'every' | 'failUnder' | 'out'>,
  target: ValidationRun['target'],
): ValidationRun {
  const end = o.end === undefined ? Date.now() : parseTime(o.end, '--end');
  const start = o.start === undefined ? end - DAY : parseTime(o.start, '--start');
  if (start >= end)
    throw badOption(
      `--start ${new Date(start).toISOString()} is not before --end ${new Date(end).toISOString()}`,
    );
  const every = parseDuration(o.every);
  if (typeof every !== 'number') throw badOption(`--every: ${every.error}`);
  return {
    target,
    start,
    end,
    everyMs: every,
    failUnder: o.failUnder === undefined ? 1 : parseFailUnder(o.failUnder),
    ...(o.out ? { out: o.out } : {}),
  };
}

export function registerValidateCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command('validate')
    .description(
      'check the data-quality expectations on the offline store: statistics, a JSON and HTML report, and a gate (exit 1 when it fails)',
    )
    .option('--source <name>', 'one source (a stream or push source means its batch source)')
    .option('--view <name>', 'one feature view (its features and its source)')
    .option('--service <name>', "a feature service's feature views and their sources")
    .option('--start <time>', 'start of the validated range (default: --end minus 1 day)')
    .option(
      '--end <time>',
      'end of the validated range, exclusive; freshness is measured here (default: now)',
    )
    .option('--every <duration>', "step of the feature views' time grid", '1h')
    .option(
      '--fail-under <rate>',
      'fail when the share of passed checks is under this: 0..1 or a percentage (default 1: any failed check)',
    )
    .option(
      '--out <dir>',
      'folder of validation.json and validation.html (default: $LARDER_HOME/validation)',
    )
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      `
Without --source, --view or --service: every batch source and feature view that declares
expect (drift bounds alone do not count). Exit codes: 0 when the gate passes, 1 when it fails (error LARDER_EXPECTATION_FAILED,
after the report is written) or on any other error.`,
    )
    .action(async (o: Flags) => {
      const given = (['source', 'view', 'service'] as const).filter((k) => o[k] !== undefined);
      if (given.length > 1)
        throw new LarderError(
          'LARDER_BAD_REQUEST',
          `pass one of --source, --view and --service, not ${given.map((g) => `--${g}`).join(' and ')}`,
          { detail: { reason: 'conflicting_fields' } },
        );
      const target: ValidateTarget =
        o.source !== undefined
          ? { source: o.source }
          : o.view !== undefined
            ? { view: o.view }
            : o.service !== undefined
              ? { service: o.service }
              : { all: true };
      await runValidation(globals(), validationRun(o, target), o.json ? 'json' : 'text');
    });
}

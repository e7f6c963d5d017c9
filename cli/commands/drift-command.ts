import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { parseDuration } from '../../core/duration.ts';
import { LarderError } from '../../core/errors.ts';
import type { DriftReport, DriftSample, FeatureDrift } from '../../monitoring/drift.ts';
import { DRIFT_DEFAULTS } from '../../monitoring/drift-stats.ts';
import type { GlobalOptions } from '../context.ts';
import { info, printJson, table } from '../output.ts';
import { parseTime } from '../time.ts';

interface DriftOptions {
  service: string;
  reference?: string;
  referenceWindow?: string;
  current?: string;
  currentWindow?: string;
  start?: string;
  end?: string;
  every: string;
  psiThreshold: string;
  pThreshold: string;
  html?: string;
  json?: boolean;
}

const fmt = (x: number): string => (Number.isNaN(x) ? 'n/a' : x.toPrecision(4));

const bad = (message: string, hint?: string): LarderError =>
  new LarderError('LARDER_BAD_REQUEST', message, {
    ...(hint ? { hint } : {}),
    detail: { reason: 'invalid_option' },
  });

function printReport(
  r: DriftReport,
  describe: { sample: (s: DriftReport['current']) => string; bounds: (f: FeatureDrift) => string },
): void {
  info(
    `drift of ${r.service}: ${describe.sample(r.reference)} (reference) against ${describe.sample(r.current)}`,
  );
  process.stdout.write(
    `${table(
      r.features.map((f) => [
        f.feature,
        String(f.referenceCount),
        String(f.currentCount),
        fmt(f.psi),
        `${f.test === 'ks' ? 'KS' : 'chi2'} ${fmt(f.statistic)}`,
        fmt(f.pValue),
        describe.bounds(f),
        f.drifted ? 'DRIFT' : 'ok',
      ]),
      ['feature', 'reference', 'current', 'psi', 'test', 'p', 'drift when', 'drift'],
    )}\n`,
  );
  if (
    r.features.some((f) => f.thresholdSource.psi === 'expect' || f.thresholdSource.p === 'expect')
  )
    info("  * from the feature's expect: { drift }");
  for (const s of r.skipped) info(`  ${s.feature}: ${s.reason}`);
}

function threshold(text: string, flag: string): number {
  const x = Number(text);
  if (!Number.isFinite(x) || x <= 0) throw bad(`${flag} "${text}": not a positive number`);
  return x;
}

/** `START..END`, each a time `--start` accepts, END after START. */
export function parseWindow(text: string, flag: string): { start: number; end: number } {
  const parts = text.split('..');
  if (parts.length !== 2 || !parts[0]!.trim() || !parts[1]!.trim())
    throw bad(
      `${flag} "${text}": not START..END`,
      'e.g. 2026-11-01..2026-11-08 or now-14d..now-7d (ISO-8601, epoch ms or now-…)',
    );
  const start = parseTime(parts[0]!, `${flag} start`);
  const end = parseTime(parts[1]!, `${flag} end`);
  if (end <= start) throw bad(`${flag} "${text}": the end must be after the start`);
  return { start, end };
}

/** What the flags ask for (see `larder drift --help`), checked before anything is opened. */
export interface DriftFlags {
  reference: DriftSample;
  /** The current window. */
  window: { start: number; end: number };
  /** `--current`; undefined: logs for a logged service, else offline. */
  current: 'logs' | 'offline' | undefined;
  everyMs: number;
  thresholds: { psi: number; p: number };
}

export function parseDriftFlags(o: DriftOptions): DriftFlags {
  // The times first: a bad time is reported as such whatever else is missing.
  const start = o.start === undefined ? undefined : parseTime(o.start, '--start');
  const end = o.end === undefined ? undefined : parseTime(o.end, '--end');
  const every = parseDuration(o.every);
  if (typeof every !== 'number' || !(every > 0))
    throw bad(`--every "${o.every}": ${typeof every === 'number' ? 'not positive' : every.error}`);
  const thresholds = {
    psi: threshold(o.psiThreshold, '--psi-threshold'),
    p: threshold(o.pThreshold, '--p-threshold'),
  };
  if (o.current !== undefined && o.current !== 'logs' && o.current !== 'offline')
    throw bad(`--current "${o.current}": not logs or offline`);
  if ((o.reference === undefined) === (o.referenceWindow === undefined))
    throw bad(
      'give one reference: --reference FILE or --reference-window START..END',
      'a training export file, or a window of offline values',
    );
  const reference: DriftSample =
    o.reference !== undefined
      ? { type: 'file', path: o.reference }
      : {
          type: 'offline',
          ...parseWindow(o.referenceWindow!, '--reference-window'),
          everyMs: every,
        };
  let window: { start: number; end: number };
  if (o.currentWindow !== undefined) {
    if (start !== undefined || end !== undefined)
      throw bad('give --current-window or --start and --end, not both');
    window = parseWindow(o.currentWindow, '--current-window');
  } else if (start !== undefined && end !== undefined) {
    if (end <= start) throw bad('--end must be after --start');
    window = { start, end };
  } else
    throw bad(
      'give the current window: --current-window START..END (or --start and --end)',
      'e.g. --current-window now-1d..now',
    );
  return {
    reference,
    window,
    current: o.current as DriftFlags['current'],
    everyMs: every,
    thresholds,
  };
}

/** The current sample: `--current`, by default the logs of a logged service, else offline values. */
export function currentSample(flags: DriftFlags, logged: boolean): DriftSample {
  const current = flags.current ?? (logged ? 'logs' : 'offline');
  return current === 'logs'
    ? { type: 'logs', ...flags.window }
    : { type: 'offline', ...flags.window, everyMs: flags.everyMs };
}

/** `larder drift`: PSI and a two-sample test per feature, a reference against a current sample. */
export function registerDriftCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command('drift')
    .description(
      'feature drift: PSI and a KS / chi-square test per feature of a service between a reference (a training export or a window of offline values) and a current window (served or offline values)',
    )
    .requiredOption('--service <name>', 'the feature service whose features are compared')
    .option('--reference <file>', 'reference: a training export (.parquet, .csv or .jsonl)')
    .option(
      '--reference-window <start..end>',
      'reference: the offline values of this window, on the --every grid',
    )
    .option(
      '--current-window <start..end>',
      'the current window (times as --start takes them: ISO-8601, epoch ms, now-1d)',
    )
    .option(
      '--current <logs|offline>',
      'the current values: served (the feature log) or offline on the --every grid (default: logs for a service with logging, else offline)',
    )
    .option('--start <time>', 'same as the start of --current-window')
    .option('--end <time>', 'same as the end of --current-window (exclusive)')
    .option('--every <duration>', "step of the offline windows' time grid", '1h')
    .option(
      '--psi-threshold <x>',
      'drift when PSI is above this (features without expect: { drift: { maxPsi } })',
      String(DRIFT_DEFAULTS.psi),
    )
    .option(
      '--p-threshold <p>',
      'drift when the p-value is below this (features without expect: { drift: { minPValue } })',
      String(DRIFT_DEFAULTS.p),
    )
    .option('--html <file>', 'also write the report as a self-contained HTML page')
    .option('--json', 'print the report as JSON')
    .action(async (o: DriftOptions) => {
      const flags = parseDriftFlags(o);
      const { repo } = globals();
      const [
        { openFeatureStore },
        { driftReport, describeSample, describeBounds },
        { driftHtml },
        { logDestinations },
      ] = await Promise.all([
        import('../../store/feature-store.ts'),
        import('../../monitoring/drift.ts'),
        import('../../monitoring/drift-html.ts'),
        import('../../monitoring/skew.ts'),
      ]);
      const store = await openFeatureStore(repo ? { repo } : {});
      try {
        const logged = logDestinations(store.repo, o.service).size > 0;
        const report = await driftReport({
          config: store.config,
          repo: store.repo,
          service: o.service,
          reference: flags.reference,
          current: currentSample(flags, logged),
          thresholds: flags.thresholds,
        });
        if (o.html) writeFileSync(o.html, driftHtml(report));
        if (o.json) printJson(report);
        else printReport(report, { sample: describeSample, bounds: describeBounds });
      } finally {
        await store.close();
      }
    });
}

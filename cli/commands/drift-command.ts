import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { LarderError } from '../../core/errors.ts';
import type { DriftReport } from '../../monitoring/drift.ts';
import { DRIFT_DEFAULTS } from '../../monitoring/drift-stats.ts';
import type { GlobalOptions } from '../context.ts';
import { info, printJson, table } from '../output.ts';
import { parseTime } from '../time.ts';

interface DriftOptions {
  service: string;
  reference: string;
  start: string;
  end: string;
  psiThreshold: string;
  pThreshold: string;
  html?: string;
  json?: boolean;
}

const fmt = (x: number): string => (Number.isNaN(x) ? 'n/a' : x.toPrecision(4));

function printReport(r: DriftReport): void {
  info(`drift of ${r.service}: ${r.reference} against the values served in [${r.start}, ${r.end})`);
  process.stdout.write(
    `${table(
      r.features.map((f) => [
        f.feature,
        String(f.referenceCount),
        String(f.currentCount),
        fmt(f.psi),
        `${f.test === 'ks' ? 'KS' : 'chi2'} ${fmt(f.statistic)}`,
        fmt(f.pValue),
        f.drifted ? 'DRIFT' : 'ok',
      ]),
      ['feature', 'reference', 'current', 'psi', 'test', 'p', 'drift'],
    )}\n`,
  );
  for (const s of r.skipped) info(`  ${s.feature}: ${s.reason}`);
}

function threshold(text: string, flag: string): number {
  const x = Number(text);
  if (!Number.isFinite(x) || x <= 0)
    throw new LarderError('LARDER_BAD_REQUEST', `${flag} "${text}": not a positive number`, {
      detail: { reason: 'invalid_option' },
    });
  return x;
}

/** `larder drift`: PSI and a two-sample test per feature, reference file against served values. */
export function registerDriftCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command('drift')
    .description(
      'feature drift: PSI and a KS / chi-square test per feature between a reference export and the values a logged service served',
    )
    .requiredOption('--service <name>', 'a feature service declared with logging')
    .requiredOption('--reference <file>', 'a training export (.parquet, .csv or .jsonl)')
    .requiredOption('--start <time>', 'first served read compared (ISO-8601, epoch ms, now-1d)')
    .requiredOption('--end <time>', 'end of the served reads (exclusive)')
    .option('--psi-threshold <x>', 'drift when PSI is above this', String(DRIFT_DEFAULTS.psi))
    .option('--p-threshold <p>', 'drift when the p-value is below this', String(DRIFT_DEFAULTS.p))
    .option('--html <file>', 'also write the report as a self-contained HTML page')
    .option('--json', 'print the report as JSON')
    .action(async (o: DriftOptions) => {
      const start = parseTime(o.start, '--start');
      const end = parseTime(o.end, '--end');
      if (end <= start)
        throw new LarderError('LARDER_BAD_REQUEST', '--end must be after --start', {
          detail: { reason: 'invalid_option' },
        });
      const thresholds = {
        psi: threshold(o.psiThreshold, '--psi-threshold'),
        p: threshold(o.pThreshold, '--p-threshold'),
      };
      const { repo } = globals();
      const [{ openFeatureStore }, { driftReport }, { driftHtml }] = await Promise.all([
        import('../../store/feature-store.ts'),
        import('../../monitoring/drift.ts'),
        import('../../monitoring/drift-html.ts'),
      ]);
      const store = await openFeatureStore(repo ? { repo } : {});
      try {
        const report = await driftReport({
          config: store.config,
          repo: store.repo,
          service: o.service,
          reference: o.reference,
          start,
          end,
          thresholds,
        });
        if (o.html) writeFileSync(o.html, driftHtml(report));
        if (o.json) printJson(report);
        else printReport(report);
      } finally {
        await store.close();
      }
    });
}

import type { Command } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { LarderError } from '../../core/errors.ts';
import type { SkewReport } from '../../monitoring/skew.ts';
import type { GlobalOptions } from '../context.ts';
import { info, printJson, table } from '../output.ts';
import { parseTime } from '../time.ts';

interface SkewOptions {
  service: string;
  start: string;
  end: string;
  examples: string;
  json?: boolean;
}

const percent = (share: number): string => `${(share * 100).toFixed(2)}%`;
const short = (v: unknown): string => {
  const s = JSON.stringify(v) ?? 'null';
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
};

function printReport(r: SkewReport): void {
  info(`skew of ${r.service}: ${r.rows.toLocaleString()} logged rows in [${r.start}, ${r.end})`);
  if (r.rows === 0) return;
  process.stdout.write(
    `${table(
      r.features.map((f) => [f.feature, String(f.compared), String(f.differing), percent(f.share)]),
      ['feature', 'compared', 'differing', 'share'],
    )}\n`,
  );
  for (const f of r.features)
    for (const e of f.examples)
      process.stdout.write(
        `  ${f.feature} at ${e.at} ${short(e.entities)}: served ${short(e.served)} (${e.status}), offline ${short(e.offline)}\n`,
      );
}

/** `larder skew`: served (logged) values against the same rows recomputed offline. */
export function registerSkewCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command('skew')
    .description(
      "training/serving skew: recompute a logged service's served rows offline and report, per feature, the share that differs",
    )
    .requiredOption(
      '--service <name>',
      'a feature service declared with logging (or with a model declaring it)',
    )
    .requiredOption('--start <time>', 'first logged read (ISO-8601, epoch ms, now-1h)')
    .requiredOption('--end <time>', 'end of the logged reads (exclusive)')
    .option('--examples <n>', 'differing rows shown per feature', '5')
    .option('--json', 'print the report as JSON')
    .action(async (o: SkewOptions) => {
      const start = parseTime(o.start, '--start');
      const end = parseTime(o.end, '--end');
      if (end <= start)
        throw new LarderError('LARDER_BAD_REQUEST', '--end must be after --start', {
          detail: { reason: 'invalid_option' },
        });
      const maxExamples = Number(o.examples);
      if (!Number.isInteger(maxExamples) || maxExamples < 0)
        throw new LarderError('LARDER_BAD_REQUEST', `--examples "${o.examples}": not a count`, {
          hint: 'e.g. --examples 5',
          detail: { reason: 'invalid_option' },
        });
      const { repo } = globals();
      const [{ openFeatureStore }, { skewReport, skewReportPath }] = await Promise.all([
        import('../../store/feature-store.ts'),
        import('../../monitoring/skew.ts'),
      ]);
      const store = await openFeatureStore(repo ? { repo } : {});
      try {
        const report = await skewReport({
          config: store.config,
          repo: store.repo,
          service: o.service,
          start,
          end,
          maxExamples,
        });
        // The newest report, for the dashboard.
        const path = skewReportPath(store.config.home, o.service);
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
        if (o.json) printJson(report);
        else printReport(report);
      } finally {
        await store.close();
      }
    });
}

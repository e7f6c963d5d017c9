import { join } from 'node:path';
import type { Command } from 'commander';
import { parseDuration } from '../../../core/duration.ts';
import { LarderError } from '../../../core/errors.ts';
import { cliConfig, cliRepository, type GlobalOptions } from '../../../cli/context.ts';
import { printJson } from '../../../cli/output.ts';
import { parseCount, parseTime, parseTimestampUnit } from '../../../cli/time.ts';

interface LabelFlags {
  out: string;
  horizon: string;
  start?: string;
  end?: string;
  limit: string;
  timestampUnit?: string;
  json?: boolean;
}

/**
 * `larder label`: the ranker's labelled spine from the e-commerce repository's raw history
 * (batch sources `user_events_batch` and `transactions_batch`).
 */
export function registerLabelCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command('label')
    .description(
      'build the ranker training spine: product page views labelled 1 when the user adds to cart or buys within --horizon',
    )
    .requiredOption(
      '--out <file>',
      'output: .parquet, .csv or .jsonl (user_id, product_id, event_timestamp, label)',
    )
    .option('--horizon <duration>', 'label window after each view', '1h')
    .option('--start <time>', 'first view time (ISO-8601, epoch ms, now-7d)')
    .option('--end <time>', 'last view time')
    .option(
      '--timestamp-unit <unit>',
      'unit of numeric --start/--end: s, ms or us (default: ms; numbers that would be before 1973 as ms are refused)',
    )
    .option('--limit <n>', 'keep a deterministic sample of at most n rows (0 = all)', '0')
    .option('--json', 'print a JSON summary')
    .action(async (o: LabelFlags) => {
      const unit = parseTimestampUnit(o.timestampUnit);
      const time = (text: string, flag: string): number =>
        parseTime(text, flag, { unitOption: true, ...(unit ? { unit } : {}) });
      const start = o.start === undefined ? undefined : time(o.start, '--start');
      const end = o.end === undefined ? undefined : time(o.end, '--end');
      const config = await cliConfig(globals());
      const repo = await cliRepository(config);
      const dir = (name: string): string => {
        const s = repo.batchSources.get(name);
        if (!s)
          throw new LarderError(
            'LARDER_NOT_FOUND',
            `the repository has no batch source "${name}"`,
            { hint: 'larder label works on the e-commerce repository (features/)' },
          );
        return join(config.dataDir, s.spec.path);
      };
      const horizon = parseDuration(o.horizon);
      if (typeof horizon !== 'number')
        throw new LarderError('LARDER_BAD_REQUEST', `--horizon: ${horizon.error}`, {
          detail: { reason: 'invalid_option' },
        });
      const { buildLabelSpine } = await import('../labels/label-spine.ts');
      const summary = await buildLabelSpine({
        eventsDir: dir('user_events_batch'),
        transactionsDir: dir('transactions_batch'),
        out: o.out,
        horizonMs: horizon,
        ...(start !== undefined ? { start } : {}),
        ...(end !== undefined ? { end } : {}),
        limit: parseCount(o.limit, '--limit'),
      });
      if (o.json) printJson(summary);
      else
        console.log(
          `Wrote ${summary.rows.toLocaleString('en-US')} rows (${summary.positives.toLocaleString('en-US')} positive) to ${summary.out} in ${summary.seconds.toFixed(1)} s`,
        );
    });
}

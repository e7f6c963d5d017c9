import type { Command } from 'commander';
import { badRequest } from '../../core/errors.ts';
import { readRuns } from '../../scheduler/run-history.ts';
import { cliConfig, type GlobalOptions } from '../context.ts';
import { printJson, table } from '../output.ts';

const iso = (t: number | null): string => (t === null ? '-' : new Date(t).toISOString());

export function registerRunsCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command('runs')
    .description("the scheduler's run history ($LARDER_HOME/runs.jsonl), oldest first")
    .option('--view <name>', 'only the runs of this view')
    .option('--limit <n>', 'only the latest n runs', '50')
    .option('--json', 'print JSON')
    .action(async (o: { view?: string; limit: string; json?: boolean }) => {
      const config = await cliConfig(globals());
      const limit = Number(o.limit);
      if (!Number.isInteger(limit) || limit < 1)
        throw badRequest(
          '--limit',
          `--limit ${o.limit}: not a positive integer`,
          'e.g. --limit 20',
        );
      const runs = readRuns(config.home, o.view).slice(-limit);
      if (o.json) return printJson(runs);
      console.log(
        table(
          runs.map((r) => [
            r.view,
            iso(r.slot),
            `${r.attempt}/${r.attempts}`,
            iso(r.start),
            iso(r.end),
            r.outcome,
            r.rows === null ? '-' : String(r.rows),
            r.error ?? '',
          ]),
          ['VIEW', 'SLOT', 'ATTEMPT', 'START', 'END', 'OUTCOME', 'ROWS', 'ERROR'],
        ),
      );
    });
}

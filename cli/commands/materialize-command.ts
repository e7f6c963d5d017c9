import type { Command } from 'commander';
import type { MaterializeProgress, ViewMaterialization } from '../../materialize/materialize.ts';
import { LarderError } from '../../core/errors.ts';
import type { ValidationProgress } from '../../offline/offline-store.ts';
import type { MaterializeOptions } from '../../store/feature-store.ts';
import type { GlobalOptions } from '../context.ts';
import { printJson, table } from '../output.ts';
import { progressWriter } from '../progress.ts';
import { parseTime } from '../time.ts';
import { runValidation, validationRun } from './validate-command.ts';

interface Flags {
  start?: string;
  end: string;
  views?: string;
  json?: boolean;
  validate?: boolean;
  failUnder?: string;
  workers?: string;
}

const WORKERS_FLAG = '--workers <n>';
const WORKERS_HELP =
  'threads materializing views at once, biggest first: this one and n − 1 workers, each with its own offline and online store connections (default 1: the views in turn)';

/** `--workers`: a whole number from 1 to 64. */
function parseWorkers(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || n < 1 || n > 64)
    throw new LarderError(
      'LARDER_BAD_REQUEST',
      `--workers ${text}: write a whole number from 1 to 64`,
      {
        detail: { reason: 'invalid_option' },
      },
    );
  return n;
}

/**
 * `--validate`: `larder validate` over the views to materialize (and their sources) for the day
 * before --end; a failed gate throws LARDER_EXPECTATION_FAILED and nothing is materialized.
 */
async function validateFirst(globals: GlobalOptions, o: Omit<Flags, 'start'>): Promise<void> {
  if (!o.validate) return;
  const views = o.views?.split(',');
  await runValidation(
    globals,
    validationRun(
      { end: o.end, every: '1h', ...(o.failUnder ? { failUnder: o.failUnder } : {}) },
      (repo) => ({
        views:
          views ??
          [...repo.featureViews.values()].filter((v) => v.spec.online).map((v) => v.spec.name),
      }),
    ),
    o.json ? 'none' : 'text',
  );
}

function progressLine(p: MaterializeProgress): string {
  const rows = p.tiles + p.skipped + p.lifetime;
  const rate = rows / Math.max(p.seconds, 0.001);
  const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
  const of = p.total !== null ? ` / ${fmt(p.total)}` : '';
  const eta =
    p.total !== null && !p.done && rate > 0
      ? ` · ETA ${((p.total - rows) / rate).toFixed(0)}s`
      : '';
  return `  ${p.view}: ${fmt(rows)}${of} rows (${fmt(p.tiles)} tiles, ${fmt(p.skipped)} past every window, ${fmt(p.lifetime)} lifetime) · ${fmt(rate)} rows/s · ${p.seconds.toFixed(1)}s${eta}`;
}

/** A first run's validation of new raw files: rows estimated from sizes until each file is done. */
export function validationLine(view: string, p: ValidationProgress): string {
  const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
  const rate = p.rowsDone / Math.max(p.seconds, 0.001);
  const eta =
    !p.done && rate > 0 ? ` · ETA ${((p.rowsTotal - p.rowsDone) / rate).toFixed(0)}s` : '';
  return `  ${view}: validated ${fmt(p.rowsDone)} / ~${fmt(p.rowsTotal)} raw rows (${p.filesDone}/${p.filesTotal} new files) · ${fmt(rate)} rows/s · ${p.seconds.toFixed(1)}s${eta}`;
}

async function run(
  globals: GlobalOptions,
  opts: Pick<MaterializeOptions, 'end' | 'start' | 'incremental' | 'views' | 'workers'>,
  json: boolean,
): Promise<void> {
  const { openFeatureStore } = await import('../../store/feature-store.ts');
  const store = await openFeatureStore({ ...(globals.repo ? { repo: globals.repo } : {}) });
  let results: ViewMaterialization[];
  const behind: { view: string; watermark: number }[] = [];
  const overlapped: { view: string; start: number; end: number }[] = [];
  const progress = progressWriter();
  try {
    results = await store.materialize({
      ...opts,
      onBehindWatermark: (b) => behind.push(b),
      onOverlap: (o) => overlapped.push(o),
      ...(json
        ? {}
        : {
            onViewStart: (v) => progress.note(`  ${v}: reading and validating source records`),
            onValidate: (v, p) => progress.update(validationLine(v, p), p.done),
            onProgress: (p) => progress.update(progressLine(p), p.done),
          }),
      onRetry: (r) =>
        progress.note(
          `larder materialize: ${r.view}: ${r.error.message}; retry ${r.attempt} in ${(r.delayMs / 1000).toFixed(1)}s`,
        ),
    });
  } finally {
    await store.close();
  }
  if (json) {
    printJson({
      end: opts.end,
      views: results,
      ...(opts.incremental ? { skipped: behind } : { movedBack: behind }),
      overlapped,
    });
    return;
  }
  const iso = (t: number): string => new Date(t).toISOString();
  for (const b of behind)
    console.log(
      opts.incremental
        ? `${b.view}: already materialized to ${iso(b.watermark)} (its watermark), after --end ${iso(opts.end)}: skipped`
        : `${b.view}: watermark moved back from ${iso(b.watermark)} to --end ${iso(opts.end)}`,
    );
  for (const o of overlapped)
    console.log(
      `${o.view}: another run committed it while this one ran: materialized again from ${iso(o.start)} to ${iso(o.end)}`,
    );
  if (results.length === 0) return;
  console.log(
    table(
      results.map((r) => [
        r.view,
        new Date(r.start).toISOString(),
        new Date(r.end).toISOString(),
        String(r.tiles),
        String(r.lifetime),
        r.seconds.toFixed(1),
        String(r.rowsPerSecond),
        String(r.rejects.reduce((n, x) => n + x.count, 0)),
      ]),
      ['VIEW', 'FROM', 'TO', 'TILES', 'LIFETIME', 'SECONDS', 'ROWS/S', 'REJECTED'],
    ),
  );
  for (const r of results)
    for (const x of r.rejects)
      console.log(
        `  ${r.view}: ${x.count} rejected records in ${x.file}${x.examples[0] ? ` (line ${x.examples[0].line}: ${x.examples[0].reason})` : ''}`,
      );
}

const VALIDATE_FLAG = '--validate';
const VALIDATE_HELP =
  'first run larder validate on the views and their sources over the day before --end (report in $LARDER_HOME/validation); materialize nothing when it fails';
const FAIL_UNDER_FLAG = '--fail-under <rate>';
const FAIL_UNDER_HELP =
  "with --validate: the validation gate's pass rate, 0..1 or a percentage (default 1: any failed check)";

export function registerMaterializeCommands(program: Command, globals: () => GlobalOptions): void {
  program
    .command('materialize')
    .description(
      'load the online store from the offline store: everything needed to serve every feature at any time ≥ --end',
    )
    .requiredOption('--end <time>', 'end of the loaded history (epoch ms, ISO-8601, now)')
    .option(
      '--start <time>',
      'first event to load into tiles, before --end (default: the first hop the longest window at --end reads; lifetime values use all history)',
    )
    .option('--views <a,b>', 'feature views (default: every online view)')
    .option('--json', 'print a JSON summary')
    .option(WORKERS_FLAG, WORKERS_HELP)
    .option(VALIDATE_FLAG, VALIDATE_HELP)
    .option(FAIL_UNDER_FLAG, FAIL_UNDER_HELP)
    .addHelpText(
      'after',
      `
A view whose watermark is after --end is reloaded to --end and its watermark moves back to it
(a batch view's: to the latest snapshot at --end), with one line per view:
"<view>: watermark moved back from <watermark> to --end <end>" (--json: "movedBack"). A view
another run committed while this one ran (runs outside the scheduler's lease) is materialized
again over this run's range: "<view>: another run committed it while this one ran: materialized
again from <start> to <end>" (ISO-8601; the view's row, in the table and in --json "views", is
that second pass; --json: "overlapped", [{"view","start","end"}] in epoch ms, [] when none).`,
    )
    .action(async (o: Flags) => {
      const start = o.start ? parseTime(o.start, '--start') : undefined;
      const end = parseTime(o.end, '--end');
      if (start !== undefined && start > end)
        throw new LarderError(
          'LARDER_BAD_REQUEST',
          `--start ${new Date(start).toISOString()} is after --end ${new Date(end).toISOString()}`,
          {
            detail: { reason: 'invalid_option' },
            hint: '--start is the first event loaded into tiles and --end the end of the loaded history: pass --start before --end, or leave it out',
          },
        );
      const views = o.views?.split(',');
      const workers = parseWorkers(o.workers);
      await validateFirst(globals(), o);
      await run(
        globals(),
        {
          end,
          ...(start === undefined ? {} : { start }),
          ...(views ? { views } : {}),
          ...(workers === undefined ? {} : { workers }),
        },
        o.json ?? false,
      );
    });

  program
    .command('materialize-incremental')
    .description(
      'continue materialization from each view’s watermark (kept in the registry) to --end',
    )
    .requiredOption('--end <time>', 'end of the loaded history (epoch ms, ISO-8601, now)')
    .option('--views <a,b>', 'feature views (default: every online view)')
    .option('--json', 'print a JSON summary')
    .option(WORKERS_FLAG, WORKERS_HELP)
    .option(VALIDATE_FLAG, VALIDATE_HELP)
    .option(FAIL_UNDER_FLAG, FAIL_UNDER_HELP)
    .addHelpText(
      'after',
      `
A view whose watermark is after --end is skipped (its watermark and online values unchanged),
with one line per view: "<view>: already materialized to <watermark> (its watermark), after
--end <end>: skipped" (--json: "skipped"); exit 0. A view at its watermark runs again (late
records). The larder scheduler counts such a run a success of 0 rows. A view another run
committed while this one ran (runs outside the scheduler's lease) keeps the later watermark and
is materialized again over this run's range up to it: "<view>: another run committed it while
this one ran: materialized again from <start> to <end>" (ISO-8601; the view's row, in the table
and in --json "views", is that second pass; --json: "overlapped", [{"view","start","end"}] in
epoch ms, [] when none).`,
    )
    .action(async (o: Omit<Flags, 'start'>) => {
      const end = parseTime(o.end, '--end');
      const views = o.views?.split(',');
      const workers = parseWorkers(o.workers);
      await validateFirst(globals(), o);
      await run(
        globals(),
        {
          end,
          incremental: true,
          ...(views ? { views } : {}),
          ...(workers === undefined ? {} : { workers }),
        },
        o.json ?? false,
      );
    });
}

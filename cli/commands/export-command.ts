import type { Command } from 'commander';
import { LarderError } from '../../core/errors.ts';
import { parseDuration } from '../../core/duration.ts';
import type { EntitySource, ExportProgress } from '../../offline/offline-store.ts';
import type { FeatureSelection } from '../../store/feature-store.ts';
import type { GlobalOptions } from '../context.ts';
import { info, printJson } from '../output.ts';
import { progressWriter } from '../progress.ts';
import { parseTime, parseTimestampUnit } from '../time.ts';

interface ExportOptions {
  features: string;
  entities?: string;
  out: string;
  fullFeatureNames?: boolean;
  json?: boolean;
  start?: string;
  end?: string;
  every?: string;
  timestampUnit?: string;
}

/** Export progress: a phase without a row count yet (`reading sources`) prints nothing. */
function progressPrinter(): (p: ExportProgress) => void {
  const progress = progressWriter();
  return (p) => {
    if (p.rowsTotal === 0 && p.phase !== 'done') return;
    const rate = p.elapsedSeconds > 0 ? p.rowsDone / p.elapsedSeconds : 0;
    const eta =
      rate > 0 && p.rowsTotal > p.rowsDone
        ? ` · ETA ${Math.ceil((p.rowsTotal - p.rowsDone) / rate)}s`
        : '';
    progress.update(
      `${p.phase}: ${p.rowsDone.toLocaleString()}/${p.rowsTotal.toLocaleString()} rows · ${Math.round(rate).toLocaleString()} rows/s · ${p.elapsedSeconds.toFixed(1)}s${eta}`,
      p.phase === 'done',
    );
  };
}

/** `larder export`: point-in-time correct training data from the offline store. */
export function registerExportCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command('export')
    .description('export point-in-time correct feature values for entity rows (training data)')
    .requiredOption('--features <refs>', 'a feature service name, or view:feature,view:feature,...')
    .option(
      '--entities <file>',
      'entity rows: .csv, .jsonl or .parquet with the join keys and event_timestamp',
    )
    .requiredOption('--out <file>', 'output file: .parquet, .arrow, .csv or .jsonl')
    .option('--full-feature-names', 'name columns view__feature')
    .option(
      '--start <time>',
      'with --end and --every: spot-sample every known entity on a time grid (ISO-8601, epoch ms, now-7d)',
    )
    .option('--end <time>', 'end of the time grid (inclusive)')
    .option('--every <duration>', 'grid step, e.g. 1h')
    .option(
      '--timestamp-unit <unit>',
      'unit of numeric event_timestamp values (and of numeric --start/--end): s, ms or us (default: ms; numbers that would be before 1973 as ms are refused)',
    )
    .option('--json', 'print a machine-readable summary')
    .addHelpText(
      'after',
      `
Entity rows (--entities): the join keys and event_timestamp; CSV/TSV with a header line, JSON
Lines or Parquet. event_timestamp is a typed timestamp (Parquet, JSON), an ISO-8601 string (UTC
unless it has an offset) or an epoch number in --timestamp-unit (default ms; fractions are floored
to the millisecond). Without --timestamp-unit, numbers that all lie before 1973 (or all after 2500)
as milliseconds are refused: they are seconds (microseconds). Malformed lines (CSV quoting or
field counts, invalid JSON, a JSON line that is not an object) are refused with their line
numbers, never read or skipped silently; so are a join key written as an object or a list, a
column named twice and UTF-16 text. Files are UTF-8, a leading byte-order mark allowed. Join
keys are read as their entity's key type (docs/api.md "Join keys"): an int64 key's 1.0 or 1e3
by value, 1.5 refused with its row; a JSON number for a string key as its value's decimal (1.0
as "1"), CSV text as written. An empty JSON Lines file is no rows, as a CSV file of only a
header line is. In CSV an empty field is null and a quoted one ("") the empty string. An
on-demand view's request field is read as its declared type (CSV text "2.5" as a float64), a value
not of that type refused with its row. The output folder must exist.`,
    )
    .action(async (o: ExportOptions) => {
      const unit = parseTimestampUnit(o.timestampUnit);
      const time = (text: string, flag: string): number =>
        parseTime(text, flag, { unitOption: true, ...(unit ? { unit } : {}) });
      // Flags first: a typo fails at once, before the repository is loaded.
      const start = o.start === undefined ? undefined : time(o.start, '--start');
      const end = o.end === undefined ? undefined : time(o.end, '--end');
      const refs = o.features
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const selection: FeatureSelection =
        refs.length === 1 && !refs[0]!.includes(':') ? { service: refs[0]! } : { features: refs };
      let entities: EntitySource;
      const grid = [o.start, o.end, o.every].filter((x) => x !== undefined).length;
      if (o.entities && grid > 0)
        throw new LarderError(
          'LARDER_BAD_REQUEST',
          'pass either --entities or --start/--end/--every, not both',
          { detail: { reason: 'conflicting_fields' } },
        );
      if (o.entities)
        entities = { type: 'file', path: o.entities, ...(unit ? { timestampUnit: unit } : {}) };
      else if (grid === 3) {
        const every = parseDuration(o.every!);
        if (typeof every !== 'number')
          throw new LarderError('LARDER_BAD_REQUEST', `--every: ${every.error}`, {
            detail: { reason: 'invalid_option' },
          });
        entities = {
          type: 'grid',
          start: start!,
          end: end!,
          everyMs: every,
        };
      } else
        throw new LarderError('LARDER_BAD_REQUEST', 'no entity rows', {
          hint: 'pass --entities FILE, or all of --start, --end and --every',
          detail: { reason: 'missing_argument' },
        });
      const { repo } = globals();
      const { openFeatureStore } = await import('../../store/feature-store.ts');
      const store = await openFeatureStore(repo ? { repo } : {});
      try {
        const s = await store.exportHistoricalFeatures({
          ...selection,
          entities,
          out: o.out,
          fullFeatureNames: o.fullFeatureNames ?? false,
          onProgress: progressPrinter(),
        });
        const rejected = s.rejects.map((r) => ({
          source: r.source,
          file: r.file,
          count: r.count,
          examples: r.examples,
        }));
        if (o.json)
          printJson({
            rows: s.rows,
            seconds: Number(s.seconds.toFixed(3)),
            rows_per_s: Math.round(s.rowsPerSecond),
            out: o.out,
            rejected,
          });
        else {
          info(
            `wrote ${s.rows.toLocaleString()} rows × ${s.columns.length} columns to ${o.out} in ${s.seconds.toFixed(1)}s (${Math.round(s.rowsPerSecond).toLocaleString()} rows/s)`,
          );
          for (const r of s.rejects) {
            info(`rejected ${r.count} record(s) in ${r.file} (${r.source}):`);
            for (const e of r.examples) info(`  line ${e.line}: ${e.reason}`);
          }
        }
      } finally {
        await store.close();
      }
    });
}

import type { Command } from 'commander';
import {
  materialize,
  selectViews,
  type MaterializeProgress,
  type ViewMaterialization,
} from '../../materialize/materialize.ts';
import { createOfflineStore } from '../../offline/create-offline-store.ts';
import { createOnlineStore } from '../../online/create-online-store.ts';
import { LarderError } from '../../core/errors.ts';
import { readRegistry, setWatermarks } from '../../registry/registry-file.ts';
import type { LarderConfig } from '../../config/config.ts';
import type { Repository } from '../../definitions/repository.ts';
import { cliConfig, cliRepository, type GlobalOptions } from '../context.ts';
import { printJson, table } from '../output.ts';
import { progressWriter } from '../progress.ts';
import { parseTime } from '../time.ts';

interface Flags {
  start?: string;
  end: string;
  views?: string;
  json?: boolean;
}

function progressLine(p: MaterializeProgress): string {
  const rows = p.tiles + p.lifetime;
  const rate = rows / Math.max(p.seconds, 0.001);
  const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
  const of = p.total !== null ? ` / ${fmt(p.total)}` : '';
  const eta =
    p.total !== null && !p.done && rate > 0
      ? ` · ETA ${((p.total - rows) / rate).toFixed(0)}s`
      : '';
  return `  ${p.view}: ${fmt(rows)}${of} rows (${fmt(p.tiles)} tiles, ${fmt(p.lifetime)} lifetime) · ${fmt(rate)} rows/s · ${p.seconds.toFixed(1)}s${eta}`;
}

async function run(
  config: LarderConfig,
  repo: Repository,
  views: string[] | undefined,
  end: number,
  start: (name: string) => number | undefined,
  json: boolean,
): Promise<void> {
  if (!readRegistry(config.home))
    throw new LarderError('LARDER_REGISTRY_NOT_APPLIED', 'no registry yet', {
      hint: 'run `larder apply` first',
    });
  const specs = selectViews(repo, views);
  const offline = createOfflineStore(config);
  const online = createOnlineStore(config.onlineStore, {
    namespace: config.namespace,
    views: [...repo.featureViews.values()].map((v) => v.spec),
  });
  await Promise.all([offline.init(), online.init()]);
  let results: ViewMaterialization[];
  const progress = progressWriter();
  try {
    results = await materialize({
      repo,
      offline,
      online,
      views: specs.map((s) => s.name),
      end,
      start: (v) => start(v.name),
      ...(json
        ? {}
        : {
            onViewStart: (v) => progress.note(`  ${v}: reading and validating source records`),
            onProgress: (p) => progress.update(progressLine(p), p.done),
          }),
      onRetry: (r) =>
        progress.note(
          `larder materialize: ${r.view}: ${r.error.message}; retry ${r.attempt} in ${(r.delayMs / 1000).toFixed(1)}s`,
        ),
    });
  } finally {
    await Promise.all([offline.close(), online.close()]);
  }
  await setWatermarks(config.home, Object.fromEntries(results.map((r) => [r.view, r.end])));
  if (json) {
    printJson({ end, views: results });
    return;
  }
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

export function registerMaterializeCommands(program: Command, globals: () => GlobalOptions): void {
  program
    .command('materialize')
    .description(
      'load the online store from the offline store: everything needed to serve every feature at any time ≥ --end',
    )
    .requiredOption('--end <time>', 'end of the loaded history (epoch ms, ISO-8601, now)')
    .option(
      '--start <time>',
      'first event to load into tiles (default: the first hop the longest window at --end reads; lifetime values use all history)',
    )
    .option('--views <a,b>', 'feature views (default: every online view)')
    .option('--json', 'print a JSON summary')
    .action(async (o: Flags) => {
      const start = o.start ? parseTime(o.start, '--start') : undefined;
      const end = parseTime(o.end, '--end');
      const config = await cliConfig(globals());
      const repo = await cliRepository(config);
      await run(config, repo, o.views?.split(','), end, () => start, o.json ?? false);
    });

  program
    .command('materialize-incremental')
    .description(
      'continue materialization from each view’s watermark (kept in the registry) to --end',
    )
    .requiredOption('--end <time>', 'end of the loaded history (epoch ms, ISO-8601, now)')
    .option('--views <a,b>', 'feature views (default: every online view)')
    .option('--json', 'print a JSON summary')
    .action(async (o: Omit<Flags, 'start'>) => {
      const end = parseTime(o.end, '--end');
      const config = await cliConfig(globals());
      const repo = await cliRepository(config);
      const marks = readRegistry(config.home)?.watermarks ?? {};
      await run(config, repo, o.views?.split(','), end, (v) => marks[v], o.json ?? false);
    });
}

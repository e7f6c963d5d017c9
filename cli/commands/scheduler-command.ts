import type { Command } from 'commander';
import { fileURLToPath } from 'node:url';
import { LarderError, badRequest } from '../../core/errors.ts';
import { readRegistry } from '../../registry/registry-file.ts';
import { serveSchedulerMetrics } from '../../scheduler/metrics-server.ts';
import type { RunRecord } from '../../scheduler/run-history.ts';
import type { SchedulerEvent } from '../../scheduler/scheduler.ts';
import { forkRunner } from '../../scheduler/view-runner.ts';
import { postFailure } from '../../scheduler/webhook.ts';
import { cliConfig, cliRepository, type GlobalOptions } from '../context.ts';
import { parseTime } from '../time.ts';

interface Flags {
  once?: boolean;
  now?: string;
  tick: string;
  views?: string;
  leaseTtl: string;
  metricsPort?: string;
  json?: boolean;
}

const CHILD = fileURLToPath(new URL('../scheduler-child.ts', import.meta.url));

const seconds = (v: string, flag: string, min: number): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min)
    throw badRequest(flag, `${flag} ${v}: not a number of seconds ≥ ${min}`, `e.g. ${flag} 30`);
  return n * 1000;
};

function eventLine(e: SchedulerEvent): string {
  const at = new Date().toISOString();
  if (e.type === 'busy') return `${at} ${e.view}: due, but another scheduler holds its lease`;
  const r: RunRecord = e.run;
  const head = `${at} ${r.view} slot ${new Date(r.slot).toISOString()} attempt ${r.attempt}/${r.attempts}`;
  if (e.type === 'start') return `${head}: started`;
  const took = `${(((r.end ?? r.start) - r.start) / 1000).toFixed(1)}s`;
  return r.outcome === 'success'
    ? `${head}: success, ${r.rows} rows in ${took}`
    : `${head}: ${r.outcome} after ${took}: ${r.error}`;
}

export function registerSchedulerCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command('scheduler')
    .description(
      'run materialize-incremental for every view that declares materialization, at its slots (one active run per view across schedulers); stops on SIGTERM/SIGINT',
    )
    .option('--once', 'run what is due now, wait for it, and exit (1 if a slot failed)')
    .option('--now <time>', 'with --once: the time the due slots are computed at (default now)')
    .option('--tick <seconds>', 'how often to look for due slots', '15')
    .option('--views <a,b>', 'scheduled views to run (default: every one)')
    .option('--lease-ttl <seconds>', 'a view lease not renewed for this long is free', '30')
    .option('--metrics-port <port>', 'serve Prometheus /metrics and /health on this port')
    .option('--json', 'print one JSON line per event')
    .action(async (o: Flags) => {
      // A bad time is reported as such, whatever the other flags (one time parser, one error).
      const now = o.now === undefined ? undefined : parseTime(o.now, '--now');
      if (o.now !== undefined && !o.once)
        throw badRequest('--now', '--now needs --once', 'add --once, or drop --now');
      const tickMs = seconds(o.tick, '--tick', 1);
      const leaseTtlMs = seconds(o.leaseTtl, '--lease-ttl', 1);
      const port = o.metricsPort === undefined ? undefined : Number(o.metricsPort);
      if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535))
        throw badRequest('--metrics-port', `--metrics-port ${o.metricsPort}: not a port number`);
      const config = await cliConfig(globals());
      const repo = await cliRepository(config);
      // Loaded on use, not with the command tree: the scheduler's metrics load prom-client.
      const { Scheduler, scheduledViews } = await import('../../scheduler/scheduler.ts');
      if (!readRegistry(config.home))
        throw new LarderError('LARDER_REGISTRY_NOT_APPLIED', 'no registry yet', {
          hint: 'run `larder apply` first',
        });
      let views = scheduledViews(repo);
      if (views.length === 0)
        throw badRequest(
          'materialization',
          `no view of ${config.repo} declares materialization`,
          "add materialization: { every: '1h' } to a featureView or batchView",
        );
      if (o.views) {
        const names = o.views.split(',');
        const unknown = names.filter((n) => !views.some((v) => v.name === n));
        if (unknown.length > 0)
          throw badRequest(
            '--views',
            `--views: ${unknown.join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not a scheduled view`,
            `scheduled views: ${views.map((v) => v.name).join(', ')}`,
          );
        views = views.filter((v) => names.includes(v.name));
      }
      const failures: RunRecord[] = [];
      const { webhookUrl, webhookRetries } = config.scheduler;
      const scheduler = new Scheduler({
        home: config.home,
        views,
        runner: forkRunner(CHILD, globals().repo ?? null),
        leaseTtlMs,
        onEvent: (e) => console.log(o.json ? JSON.stringify(e) : eventLine(e)),
        onFailure: async (run) => {
          failures.push(run);
          if (webhookUrl && !(await postFailure(webhookUrl, run, { retries: webhookRetries })))
            console.error(
              `larder scheduler: the failure notice for ${run.view} could not be posted to ${webhookUrl}`,
            );
        },
      });
      const server =
        port === undefined ? null : await serveSchedulerMetrics(scheduler.metrics, port);
      if (o.once) {
        await scheduler.tick(now ?? Date.now());
        server?.close();
        if (failures.length > 0) process.exitCode = 1;
        return;
      }
      console.error(
        `larder scheduler ${scheduler.id}: ${views.length} view(s), every ${tickMs / 1000}s${server ? `, metrics on :${port}/metrics` : ''}`,
      );
      const tick = (): void => void scheduler.tick(Date.now());
      tick();
      const timer = setInterval(tick, tickMs);
      await new Promise<void>((resolve) => {
        process.once('SIGTERM', resolve);
        process.once('SIGINT', resolve);
      });
      clearInterval(timer);
      await scheduler.stop();
      server?.close();
    });
}

/**
 * `larder monitor`: evaluates the alert rules of `larder.config.ts` (docs/monitoring.md
 * "Alerts") once (`--once`: exit 1 when an alert is firing or a rule could not be evaluated)
 * or every `alerts.every` until SIGINT/SIGTERM, sending firing and resolved alerts to the
 * configured destinations.
 */
import type { Command } from 'commander';
import type { EvaluationResult } from '../../alerts/alert-evaluator.ts';
import type { AlertRecord } from '../../alerts/alert-types.ts';
import { LarderError } from '../../core/errors.ts';
import { cliConfig, cliRepository, type GlobalOptions } from '../context.ts';
import { info, printJson, table } from '../output.ts';

interface MonitorOptions {
  once?: boolean;
  json?: boolean;
  metricsPort?: string;
}

const labelsText = (a: AlertRecord): string =>
  Object.entries(a.labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');

/** `FIRING rule{labels} (severity): summary` — one line per alert that changed. */
export function changeLines(r: EvaluationResult): string[] {
  return [
    ...r.fired.map((a) => `larder: FIRING ${a.fingerprint} (${a.severity}): ${a.summary}`),
    ...r.resolved.map((a) => `larder: RESOLVED ${a.fingerprint} (${a.severity})`),
  ];
}

function printResult(r: EvaluationResult): void {
  if (r.firing.length > 0)
    console.log(
      table(
        r.firing.map((a) => [a.rule, a.severity, labelsText(a), a.summary]),
        ['RULE', 'SEVERITY', 'LABELS', 'SUMMARY'],
      ),
    );
  for (const line of changeLines(r)) info(line);
  info(
    `${r.firing.length} alert(s) firing (${r.fired.length} new, ${r.resolved.length} resolved), ${r.errors.length} rule(s) failed, ${r.undelivered} message(s) not delivered`,
  );
}

export function registerMonitorCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command('monitor')
    .description(
      'evaluate the alert rules of larder.config.ts (alerts) every alerts.every, sending firing and resolved alerts to their destinations; stops on SIGTERM/SIGINT',
    )
    .option(
      '--once',
      'evaluate once and exit: 0 when nothing fires, 1 when an alert is firing or a rule could not be evaluated',
    )
    .option('--json', 'with --once: print the evaluation as JSON')
    .option('--metrics-port <port>', 'serve Prometheus /metrics and /health on this port')
    .action(async (o: MonitorOptions) => {
      const port = o.metricsPort === undefined ? undefined : Number(o.metricsPort);
      if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535))
        throw new LarderError(
          'LARDER_BAD_REQUEST',
          `--metrics-port ${o.metricsPort}: not a port number`,
          {
            detail: { reason: 'invalid_option' },
          },
        );
      if (o.json && !o.once)
        throw new LarderError('LARDER_BAD_REQUEST', '--json needs --once', {
          hint: 'the loop prints one line per firing or resolved alert',
          detail: { reason: 'invalid_option' },
        });
      const config = await cliConfig(globals());
      const [{ configuredAlerts, openAlertMonitor }, { Registry }, { serveMetrics }] =
        await Promise.all([
          import('../../alerts/alert-monitor.ts'),
          import('prom-client'),
          import('../../scheduler/metrics-server.ts'),
        ]);
      configuredAlerts(config);
      const repo = await cliRepository(config);
      const registry = new Registry();
      const warn = (line: string): void => info(`larder: ${line}`);
      const monitor = openAlertMonitor(config, repo, {
        registry,
        warn,
        onResult: (r) => {
          for (const line of changeLines(r)) info(line);
        },
      });
      const server = port === undefined ? null : await serveMetrics(registry, port, '127.0.0.1');
      try {
        if (o.once) {
          const r = await monitor.evaluate();
          if (o.json) printJson(r);
          else printResult(r);
          if (r.firing.length > 0 || r.errors.length > 0) process.exitCode = 1;
          return;
        }
        info(
          `larder: evaluating ${monitor.alerts.rules.length} alert rule(s) every ${monitor.alerts.everyMs / 1000} s${server ? `; metrics on http://127.0.0.1:${port}/metrics` : ''}`,
        );
        monitor.start();
        await new Promise<void>((resolve) => {
          process.once('SIGTERM', resolve);
          process.once('SIGINT', resolve);
        });
      } finally {
        await monitor.close();
        server?.close();
      }
    });
}

/**
 * The evaluator of a project's `alerts` (config) as `larder monitor` and `larder stream
 * --alerts` run it: one evaluation (`evaluate`) or one every `alerts.every` (`start`) until
 * `stop`. The state lives in `$LARDER_HOME/alerts/state.json`; run one evaluator per home.
 *
 * @example
 * const monitor = openAlertMonitor(config, repo, { registry });
 * const result = await monitor.evaluate();
 * await monitor.close();
 */
import type { Registry } from 'prom-client';
import type { AlertsConfig } from '../config/alerts-config.ts';
import type { LarderConfig } from '../config/config.ts';
import { LarderError } from '../core/errors.ts';
import type { Repository } from '../definitions/repository.ts';
import { resolveTopic } from '../definitions/dsl/sources.ts';
import { alertDestinations, type AlertDestinationSender } from './alert-destinations.ts';
import { AlertEvaluator, type EvaluationResult } from './alert-evaluator.ts';
import { AlertMetrics } from './alert-metrics.ts';
import { alertStatePath } from './alert-state.ts';
import type { SignalReader } from './alert-types.ts';
import { checkAlertRules, projectSignals } from './signal-reader.ts';

export interface AlertMonitorOptions {
  /** Where the metrics go (`/metrics` of the hosting process); none = not exported. */
  registry?: Registry;
  warn?: (line: string) => void;
  /** Told each evaluation's result (the loop's log lines). */
  onResult?: (r: EvaluationResult) => void;
  /** Tests: another signal reader, destinations or clock; a shorter webhook backoff. */
  read?: SignalReader;
  destinations?: AlertDestinationSender[];
  clock?: () => number;
  webhookBaseDelayMs?: number;
}

export interface AlertMonitor {
  readonly alerts: AlertsConfig;
  readonly metrics: AlertMetrics | null;
  evaluate(): Promise<EvaluationResult>;
  /** Evaluates now and then every `alerts.every` (an evaluation never overlaps the previous one). */
  start(): void;
  /** Stops the loop after the evaluation in hand and closes the connections. */
  close(): Promise<void>;
}

/** The configured alerts, or LARDER_CONFIG_INVALID when there are none. */
export function configuredAlerts(config: LarderConfig): AlertsConfig {
  if (!config.alerts)
    throw new LarderError('LARDER_CONFIG_INVALID', 'no alert rules are configured', {
      hint: 'add alerts: { rules: [...] } to larder.config.ts (docs/monitoring.md "Alerts")',
    });
  return config.alerts;
}

export function openAlertMonitor(
  config: LarderConfig,
  repo: Repository,
  opts: AlertMonitorOptions = {},
): AlertMonitor {
  const alerts = configuredAlerts(config);
  const topics = [...repo.streamSources.values()].map((s) =>
    resolveTopic(s.spec, config.stream.topics),
  );
  checkAlertRules(alerts.rules, repo, topics);
  const signals = opts.read ? null : projectSignals(config, repo);
  const destinations =
    opts.destinations ??
    alertDestinations(alerts.destinations, config.kafka, {
      ...(opts.webhookBaseDelayMs === undefined ? {} : { baseDelayMs: opts.webhookBaseDelayMs }),
    });
  const metrics = opts.registry ? new AlertMetrics(opts.registry) : null;
  const evaluator = new AlertEvaluator({
    alerts,
    statePath: alertStatePath(config.home),
    read: opts.read ?? signals!.read,
    destinations,
    ...(metrics ? { metrics } : {}),
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.warn ? { warn: opts.warn } : {}),
  });
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<unknown> = Promise.resolve();
  let closed = false;
  const tick = (): void => {
    running = evaluator.evaluate().then(
      (r) => opts.onResult?.(r),
      (e: unknown) => opts.warn?.(`alert evaluation failed: ${(e as Error).message}`),
    );
    void running.then(() => {
      if (!closed) timer = setTimeout(tick, alerts.everyMs);
    });
  };
  return {
    alerts,
    metrics,
    evaluate: () => evaluator.evaluate(),
    start: tick,
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      await running;
      await signals?.close();
      await Promise.all(destinations.map((d) => d.close()));
    },
  };
}

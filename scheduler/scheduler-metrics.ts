/**
 * `larder scheduler`'s Prometheus metrics (prom-client, a registry of its own), served on its
 * `/metrics` (`--metrics-port`). Each scheduler process counts the runs it ran.
 */
import { Counter, Gauge, Registry } from 'prom-client';

export function createSchedulerMetrics() {
  const registry = new Registry();
  const registers = [registry];
  return {
    registry,
    runs: new Counter({
      name: 'larder_scheduler_runs_total',
      help: 'Run attempts this scheduler ended, by view and outcome (success, failed, timeout, cancelled)',
      labelNames: ['view', 'outcome'] as const,
      registers,
    }),
    rows: new Counter({
      name: 'larder_scheduler_rows_total',
      help: 'Rows (tiles, lifetime values, snapshot rows) written by successful runs, by view',
      labelNames: ['view'] as const,
      registers,
    }),
    leaseBusy: new Counter({
      name: 'larder_scheduler_lease_busy_total',
      help: 'Due runs left to another scheduler holding the view lease, by view',
      labelNames: ['view'] as const,
      registers,
    }),
    running: new Gauge({
      name: 'larder_scheduler_running',
      help: '1 while this scheduler runs the view, else 0',
      labelNames: ['view'] as const,
      registers,
    }),
    lastDuration: new Gauge({
      name: 'larder_scheduler_last_run_duration_seconds',
      help: 'Duration of the last run attempt this scheduler ended, by view',
      labelNames: ['view'] as const,
      registers,
    }),
    lastSuccess: new Gauge({
      name: 'larder_scheduler_last_success_timestamp_seconds',
      help: 'When the last successful run of the view (by this scheduler) ended, Unix seconds',
      labelNames: ['view'] as const,
      registers,
    }),
    nextRun: new Gauge({
      name: 'larder_scheduler_next_run_timestamp_seconds',
      help: 'The next slot of the view, Unix seconds',
      labelNames: ['view'] as const,
      registers,
    }),
  };
}

export type SchedulerMetrics = ReturnType<typeof createSchedulerMetrics>;

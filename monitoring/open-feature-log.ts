/**
 * The feature log `serve` runs with: Parquet files under `$LARDER_DATA_DIR/logs/`, the Kafka
 * topic `larder_feature_log` on `config.kafka` (connected only when a service logs to it) and
 * the BigQuery offline store's log table (ditto), rows counted in
 * `larder_feature_log_rows_total` (docs/monitoring.md "Feature logging").
 */
import { join } from 'node:path';
import type { LarderConfig } from '../config/config.ts';
import {
  BigQueryLogSink,
  createLogTableClient,
  logTableOf,
  UnconfiguredBigQueryLogSink,
} from './bigquery-log-sink.ts';
import { FeatureLog, type FeatureLogSink } from './feature-log.ts';
import { KafkaLogSink } from './kafka-log-sink.ts';
import { ParquetLogSink } from './parquet-log-sink.ts';

/** The slice of a prom-client counter the log counts rows with. */
export interface RowCounter {
  inc(labels: { destination: string; result: string }, n: number): void;
}

/**
 * @example
 * const log = openFeatureLog(config, metrics, (e, d) => warn(d, e));
 * // per request: logServed(log, repo, req, res); at shutdown: await log.drain();
 */
export function openFeatureLog(
  config: Pick<LarderConfig, 'dataDir' | 'kafka'> & Partial<Pick<LarderConfig, 'offlineStore'>>,
  metrics: { featureLogRows: RowCounter },
  onError: (e: unknown, destination: string) => void,
  opts: { sinks?: readonly FeatureLogSink[]; capacity?: number } = {},
): FeatureLog {
  return new FeatureLog({
    sinks: opts.sinks ?? [
      new ParquetLogSink(join(config.dataDir, 'logs')),
      new KafkaLogSink(config.kafka),
      bigQuerySink(config.offlineStore),
    ],
    ...(opts.capacity === undefined ? {} : { capacity: opts.capacity }),
    onRows: (event, destination, n, reason) =>
      metrics.featureLogRows.inc(
        { destination, result: event === 'written' ? 'written' : (reason ?? 'dropped') },
        n,
      ),
    onError,
  });
}

/** The `'bigquery'` destination: the BigQuery offline store's log table (no client until used). */
function bigQuerySink(store: LarderConfig['offlineStore'] | undefined): FeatureLogSink {
  if (store?.type !== 'bigquery') return new UnconfiguredBigQueryLogSink(store?.type ?? 'duckdb');
  let sink: BigQueryLogSink | null = null;
  const open = (): BigQueryLogSink =>
    (sink ??= new BigQueryLogSink(createLogTableClient(store), logTableOf(store)));
  return {
    destination: 'bigquery',
    write: (rows) => open().write(rows),
    close: async () => sink?.close(),
  };
}

/**
 * The stream worker's metrics, in their own prom-client registry (not the server's):
 * records per topic, consumer lag per partition, DLQ and skipped-too-old counts, freshness
 * (Kafka append time → readable in the online store), batch sizes, transient retries and the
 * partitions waiting on one. Served as Prometheus text on `/metrics`, as the dashboard's JSON
 * on `/metrics.json` and as readiness on `/ready` by {@link serveStreamMetrics}.
 */
import { StreamDashboardJson } from './stream-dashboard-json.ts';
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface StreamMetrics {
  readonly registry: Registry;
  readonly records: Counter<'topic'>;
  readonly dlq: Counter<'topic' | 'reason'>;
  readonly skippedTooOld: Counter<'topic'>;
  readonly lag: Gauge<'topic' | 'partition'>;
  readonly freshness: Histogram<'topic'>;
  readonly batchSize: Histogram<'topic'>;
  readonly retries: Counter<'topic' | 'code'>;
  readonly retrying: Gauge<'topic' | 'partition'>;
  /** Schema-valid records of applied batches: the denominator of the field null rates. */
  readonly validRecords: Counter<'topic'>;
  /** Nulls (or absent values) per schema field among {@link validRecords} (`field-quality.ts`). */
  readonly fieldNulls: Counter<'topic' | 'field'>;
  /** Partitions waiting on a transient failure now (`topic/partition` → why, since when): `/ready`. */
  readonly waiting: Map<string, { topic: string; partition: number; error: string; since: number }>;
}

/** A fresh registry with every stream metric. */
export function createStreamMetrics(): StreamMetrics {
  const registry = new Registry();
  const registers = [registry];
  return {
    registry,
    records: new Counter({
      name: 'larder_stream_records_total',
      help: 'Records consumed (valid and bad), per topic',
      labelNames: ['topic'],
      registers,
    }),
    dlq: new Counter({
      name: 'larder_stream_dlq_total',
      help: 'Records sent to the dead-letter topic',
      labelNames: ['topic', 'reason'],
      registers,
    }),
    skippedTooOld: new Counter({
      name: 'larder_stream_skipped_too_old_total',
      help: 'Records older than the longest window and lifetime TTL of their views, skipped',
      labelNames: ['topic'],
      registers,
    }),
    lag: new Gauge({
      name: 'larder_stream_consumer_lag',
      help: 'High watermark minus the next offset to apply',
      labelNames: ['topic', 'partition'],
      registers,
    }),
    freshness: new Histogram({
      name: 'larder_stream_freshness_seconds',
      help: 'Kafka append time to readable in the online store',
      labelNames: ['topic'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2, 5, 10, 30],
      registers,
    }),
    batchSize: new Histogram({
      name: 'larder_stream_batch_size',
      help: 'Records per applied batch',
      labelNames: ['topic'],
      buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000],
      registers,
    }),
    retries: new Counter({
      name: 'larder_stream_retries_total',
      help: 'Batch attempts that failed transiently (store, broker or schema registry unavailable) and were retried, per error code',
      labelNames: ['topic', 'code'],
      registers,
    }),
    retrying: new Gauge({
      name: 'larder_stream_retrying',
      help: '1 while a partition waits on a transient failure, else 0',
      labelNames: ['topic', 'partition'],
      registers,
    }),
    validRecords: new Counter({
      name: 'larder_stream_valid_records_total',
      help: 'Schema-valid records of applied batches (the denominator of field null rates)',
      labelNames: ['topic'],
      registers,
    }),
    fieldNulls: new Counter({
      name: 'larder_stream_field_nulls_total',
      help: 'Null or absent values per schema field among the valid records',
      labelNames: ['topic', 'field'],
      registers,
    }),
    waiting: new Map(),
  };
}

/**
 * Serves `/metrics` (Prometheus text), `/metrics.json` and `/ready` on 127.0.0.1:`port`.
 * `/ready` is 200 `{"ready":true}`, or 503 `{"ready":false,"waiting":[{topic, partition, error,
 * since}]}` while a partition waits on a transient failure (retrying with backoff).
 *
 * @example
 * const server = await serveStreamMetrics(metrics, 9464);
 */
export async function serveStreamMetrics(
  metrics: StreamMetrics,
  port: number,
  host = '127.0.0.1',
): Promise<Server> {
  const dashboard = new StreamDashboardJson(metrics);
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = async (): Promise<void> => {
      if (path === '/metrics') {
        res.writeHead(200, { 'content-type': metrics.registry.contentType });
        res.end(await metrics.registry.metrics());
      } else if (path === '/ready') {
        const waiting = [...metrics.waiting.values()];
        res.writeHead(waiting.length === 0 ? 200 : 503, { 'content-type': 'application/json' });
        res.end(JSON.stringify(waiting.length === 0 ? { ready: true } : { ready: false, waiting }));
      } else if (path === '/metrics.json') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(await dashboard.json()));
      } else {
        res.writeHead(404).end();
      }
    };
    send().catch(() => res.writeHead(500).end());
  });
  server.on('close', () => dashboard.close());
  await new Promise<void>((ok, fail) => server.once('error', fail).listen(port, host, () => ok()));
  return server;
}

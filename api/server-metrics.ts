/**
 * The server's Prometheus metrics (prom-client), in a registry of its own so several servers
 * (tests) can live in one process, plus the in-process windows the dashboard (`/ui`) reads:
 * per-route rate and latency over 60 s, and what the push path wrote.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { IngestTracker } from './ui/ingest-tracker.ts';
import { RouteWindow } from './ui/route-window.ts';

const BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1];

/**
 * @example
 * const m = new ServerMetrics();
 * m.requestSeconds.observe({ route: '/get-online-features', method: 'POST', status: '200' }, 0.0004);
 * await m.registry.metrics(); // Prometheus text
 */
export class ServerMetrics {
  readonly registry = new Registry();
  readonly requestSeconds = new Histogram({
    name: 'larder_http_request_duration_seconds',
    help: 'Server time per HTTP request, by route, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: BUCKETS,
    registers: [this.registry],
  });
  readonly grpcSeconds = new Histogram({
    name: 'larder_grpc_request_duration_seconds',
    help: 'Server time per gRPC call, by method and status code',
    labelNames: ['method', 'code'] as const,
    buckets: BUCKETS,
    registers: [this.registry],
  });
  readonly storeSeconds = new Histogram({
    name: 'larder_online_store_read_duration_seconds',
    help: 'Online store readMany latency',
    buckets: BUCKETS,
    registers: [this.registry],
  });
  readonly errors = new Counter({
    name: 'larder_errors_total',
    help: 'Errors returned to clients, by code',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly reloads = new Counter({
    name: 'larder_registry_reloads_total',
    help: 'Registry hot reloads, by result',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly inferenceSeconds = new Histogram({
    name: 'larder_model_inference_duration_seconds',
    help: 'ONNX inference time per request, by model',
    labelNames: ['model'] as const,
    buckets: BUCKETS,
    registers: [this.registry],
  });
  readonly experimentAssignments = new Counter({
    name: 'larder_experiment_assignments_total',
    help: 'Requests routed by an experiment, by experiment and arm',
    labelNames: ['experiment', 'arm'] as const,
    registers: [this.registry],
  });

  readonly pushRecords = new Counter({
    name: 'larder_push_records_total',
    help: 'Records of POST /push applied to the online store, by source (the denominator of field null rates)',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });
  readonly pushFieldNulls = new Counter({
    name: 'larder_push_field_nulls_total',
    help: 'Null or absent values per schema field among the pushed records, by source and field',
    labelNames: ['source', 'field'] as const,
    registers: [this.registry],
  });
  readonly pushRejected = new Counter({
    name: 'larder_push_rejected_total',
    help: 'POST /push requests answered 400, by source and reason (docs/errors.md)',
    labelNames: ['source', 'reason'] as const,
    registers: [this.registry],
  });

  readonly featureLogRows = new Counter({
    name: 'larder_feature_log_rows_total',
    help: 'Feature-log rows by destination and result: written, or dropped (buffer_full: the bounded buffer was full; sink_error: the destination failed)',
    labelNames: ['destination', 'result'] as const,
    registers: [this.registry],
  });

  /** Rate and p50 / p99 latency per route over the last 60 s (dashboard). */
  readonly routes = new RouteWindow();
  /** Newest writes per view and clickstream counters of the push path (dashboard). */
  readonly ingest = new IngestTracker();

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry });
  }
}

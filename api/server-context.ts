import type { FeatureLog } from '../monitoring/feature-log.ts';
import type { KeyStore } from './auth/key-store.ts';
import type { RateLimiter } from './auth/rate-limiter.ts';
import type { PushHandler } from './push/push-handler.ts';
import type { ServerMetrics } from './server-metrics.ts';
import type { ServingState } from './serving-state.ts';

/** Everything the HTTP and gRPC front ends share. */
export interface ServerContext {
  state: ServingState;
  maxEntityRows: number;
  keys: KeyStore;
  limiter: RateLimiter;
  pushHandler: PushHandler;
  metrics: ServerMetrics;
  /** `$LARDER_HOME`, for `GET /registry`. */
  home: string;
  /** Evaluation time of reads (tests pin it). */
  clock: () => number;
  /**
   * The stream worker's JSON metrics (`docs/dashboard.md`), shown by `/ui`; none = "no
   * stream worker".
   */
  streamMetricsUrl?: string;
  /**
   * What `GET /metrics` answers; default `metrics.registry.metrics()`. A `serve --workers`
   * worker answers with the sum over every worker (cli/serve-cluster.ts).
   */
  metricsText?: () => Promise<string>;
  /** Topic overrides keyed by `LARDER_TOPIC_<NAME>` (`config.stream.topics`; default none). */
  topics?: Readonly<Record<string, string>>;
  /** Feature logging of services declared with `logging` (docs/monitoring.md); none = off. */
  featureLog?: FeatureLog;
}

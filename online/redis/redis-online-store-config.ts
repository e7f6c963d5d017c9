import type { OnlineStoreConfig } from '../../config/config.ts';

/**
 * Redis online store: `redis://host:port/db` (`LARDER_ONLINE_STORE`). Validated by
 * `OnlineStoreConfig` (config/config.ts); the knobs below have defaults.
 */
export type RedisOnlineStoreConfig = Extract<OnlineStoreConfig, { type: 'redis' }> & {
  /** Connect timeout (default 5000 ms). */
  connectTimeoutMs?: number;
  /** Retries of a command after a connection loss (default 2; tests use 0 or 1). */
  maxRetriesPerRequest?: number;
  /** Optimistic merge attempts before giving up with a retriable error (default 50). */
  maxMergeAttempts?: number;
};

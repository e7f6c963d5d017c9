import type { OnlineStoreConfig } from '../../config/config.ts';

/**
 * The SQLite online store: one database file (default `$LARDER_HOME/online.sqlite`) in WAL
 * mode, so several processes read while one writes. Validated by `OnlineStoreConfig`
 * (config/config.ts); the tuning knobs below have defaults and are for tests and benchmarks.
 */
export type SqliteOnlineStoreConfig = Extract<OnlineStoreConfig, { type: 'sqlite' }> & {
  /** How long a writer waits for another process's write lock (default 5000 ms). */
  busyTimeoutMs?: number;
  /** Expired rows are deleted after a write at most this often (default 60 000 ms; 0: every write). */
  purgeIntervalMs?: number;
};

/**
 * The SQLite online store's configuration, defined once with the other stores' in
 * `config/config.ts` (`onlineStore: { type: 'sqlite', path, busyTimeoutMs?, purgeIntervalMs? }`).
 */
export type { SqliteOnlineStoreConfig } from '../../config/config.ts';

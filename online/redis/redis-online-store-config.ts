/**
 * The Redis online store's configuration, defined once with the other stores' in
 * `config/config.ts` (`onlineStore: { type: 'redis', url, connectTimeoutMs?,
 * maxRetriesPerRequest?, maxMergeAttempts? }`, or `LARDER_ONLINE_STORE=redis://host:port/db`).
 */
export type { RedisOnlineStoreConfig } from '../../config/config.ts';

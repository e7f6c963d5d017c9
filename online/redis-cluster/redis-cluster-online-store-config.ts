/**
 * The Redis Cluster online store's configuration, defined once with the other stores' in
 * `config/config.ts` (`onlineStore: { type: 'redis-cluster', nodes, …the Redis knobs }`, or
 * `LARDER_ONLINE_STORE=redis-cluster://h1:p1,h2:p2`).
 */
export type { RedisClusterOnlineStoreConfig } from '../../config/config.ts';

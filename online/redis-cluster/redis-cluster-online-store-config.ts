import type { OnlineStoreConfig } from '../../config/config.ts';

/**
 * Redis Cluster online store: `redis-cluster://h1:p1,h2:p2` (`LARDER_ONLINE_STORE`); any
 * subset of the nodes is enough to discover the others.
 */
export type RedisClusterOnlineStoreConfig = Extract<
  OnlineStoreConfig,
  { type: 'redis-cluster' }
> & {
  connectTimeoutMs?: number;
  maxRetriesPerRequest?: number;
  maxMergeAttempts?: number;
};

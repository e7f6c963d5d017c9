import type { OnlineStoreConfig } from '../config/config.ts';
import type { OnlineStore, OnlineStoreOptions } from './online-store.ts';
import { redisClusterTopology } from './redis-cluster/redis-cluster-topology.ts';
import { RedisOnlineStore } from './redis/redis-online-store.ts';
import { singleRedisTopology } from './redis/redis-topology.ts';
import { SqliteOnlineStore } from './sqlite/sqlite-online-store.ts';

/**
 * The online store for a validated config (`LarderConfig.onlineStore`, default SQLite under
 * `$LARDER_HOME`). Nothing connects until `init()`.
 *
 * @example
 * const store = createOnlineStore(config.onlineStore, { namespace: config.namespace, views: specs });
 * await store.init();
 */
export function createOnlineStore(
  config: OnlineStoreConfig,
  options: OnlineStoreOptions,
): OnlineStore {
  switch (config.type) {
    case 'sqlite':
      return new SqliteOnlineStore(config, options);
    case 'redis':
      return new RedisOnlineStore(singleRedisTopology(config), options, config);
    case 'redis-cluster':
      return new RedisOnlineStore(redisClusterTopology(config), options, config);
  }
}

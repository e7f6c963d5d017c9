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

/**
 * `store.init()`, closing the store when it fails: a Redis client whose first connect failed
 * keeps reconnecting in the background, which kept a CLI process that had already reported
 * the error from exiting (`larder teardown`, `larder stream` with Redis down).
 *
 * @example
 * const store = await initOrClose(createOnlineStore(config.onlineStore, options));
 */
export async function initOrClose<T extends { init(): Promise<void>; close(): Promise<void> }>(
  store: T,
): Promise<T> {
  try {
    await store.init();
  } catch (e) {
    await store.close().catch(() => undefined);
    throw e;
  }
  return store;
}

import { Redis } from 'ioredis';
import type { RedisClientLike, RedisNodeLike, RedisTopology } from './redis-client.ts';
import { PlainReadConnection, plainReadTarget } from './plain-reads.ts';
import type { RedisOnlineStoreConfig } from './redis-online-store-config.ts';

/** A single Redis server: every key in one group. */
export function singleRedisTopology(config: RedisOnlineStoreConfig): RedisTopology {
  const redis = new Redis(config.url, {
    lazyConnect: true,
    connectTimeout: config.connectTimeoutMs ?? 5000,
    maxRetriesPerRequest: config.maxRetriesPerRequest ?? 2,
    enableAutoPipelining: false,
    // Fail fast: while Redis is unreachable a command fails at once (503 + Retry-After) instead
    // of waiting in the offline queue until Redis returns; ioredis keeps reconnecting meanwhile.
    enableOfflineQueue: false,
  });
  // Errors reach callers through their commands; the event only needs a listener.
  redis.on('error', () => {});
  const client = redis as unknown as RedisClientLike;
  const target = plainReadTarget(config.url, config.connectTimeoutMs ?? 5000);
  return {
    kind: 'redis',
    client,
    target: config.url,
    async connect() {
      if (redis.status === 'ready') return;
      if (redis.status === 'wait' || redis.status === 'end' || redis.status === 'close')
        await redis.connect();
    },
    groupByNode: (keys) => [keys.map((_, i) => i)],
    masters: () => [redis as unknown as RedisNodeLike],
    ready: () => redis.status === 'ready',
    probeKeys: () => [],
    plainReads: target ? new PlainReadConnection(target) : null,
  };
}

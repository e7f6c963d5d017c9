import { Cluster } from 'ioredis';
import type { RedisClientLike, RedisNodeLike, RedisTopology } from '../redis/redis-client.ts';
import { keySlot } from './key-slot.ts';
import { slotTag } from './slot-tags.ts';
import type { RedisClusterOnlineStoreConfig } from './redis-cluster-online-store-config.ts';

/** A Redis Cluster: keys grouped by the master serving their slot, one pipeline per master. */
export function redisClusterTopology(config: RedisClusterOnlineStoreConfig): RedisTopology {
  const cluster = new Cluster(config.nodes, {
    lazyConnect: true,
    scaleReads: 'master',
    enableAutoPipelining: false,
    slotsRefreshTimeout: 2000,
    // Fail fast: a command for a master that is down fails at once (503 + Retry-After) instead
    // of being retried every 100 ms up to maxRedirections times (MOVED/ASK are still
    // followed). The offline queue stays on for node connections being set up; while the
    // cluster as a whole is not ready, the store refuses commands itself (`ready()`).
    retryDelayOnFailover: 0,
    retryDelayOnClusterDown: 0,
    redisOptions: {
      connectTimeout: config.connectTimeoutMs ?? 5000,
      maxRetriesPerRequest: config.maxRetriesPerRequest ?? 2,
    },
  });
  // Errors reach callers through their commands; the event only needs a listener.
  cluster.on('error', () => {});
  return {
    kind: 'redis-cluster',
    client: cluster as unknown as RedisClientLike,
    target: config.nodes.map((n) => `${n.host}:${n.port}`).join(','),
    async connect() {
      if (cluster.status === 'ready') return;
      if (cluster.status === 'wait' || cluster.status === 'end' || cluster.status === 'close')
        await cluster.connect();
    },
    groupByNode(keys) {
      const groups = new Map<string, number[]>();
      const slots = cluster.slots;
      keys.forEach((key, i) => {
        const node = slots[keySlot(key)]?.[0] ?? '?';
        let g = groups.get(node);
        if (!g) groups.set(node, (g = []));
        g.push(i);
      });
      return [...groups.values()];
    },
    masters: () => cluster.nodes('master') as unknown as RedisNodeLike[],
    ready: () => cluster.status === 'ready',
    probeKeys() {
      // The slot map names every master, reachable or not (a connection to a master that went
      // down leaves cluster.nodes()).
      const firstSlot = new Map<string, number>();
      cluster.slots.forEach((owners, slot) => {
        const master = owners?.[0];
        if (master !== undefined && !firstSlot.has(master)) firstSlot.set(master, slot);
      });
      return [...firstSlot.values()].map((slot) => `__larder_ready:{${slotTag(slot)}}`);
    },
  };
}

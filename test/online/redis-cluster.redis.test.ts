import { randomUUID } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOUR_MS, MINUTE_MS } from '../../core/duration.ts';
import { createOnlineStore } from '../../online/create-online-store.ts';
import type { OnlineStoreOptions } from '../../online/online-store.ts';
import { keySlot } from '../../online/redis-cluster/key-slot.ts';
import { redisClusterTopology } from '../../online/redis-cluster/redis-cluster-topology.ts';
import { RedisOnlineStore } from '../../online/redis/redis-online-store.ts';
import { startRedisCluster, type LocalRedisCluster } from '../support/redis-cluster.ts';
import { onlineStoreConformance } from './online-store-conformance.ts';
import { mergeBatchCase } from './merge-batch-case.ts';
import { loadBatchCase, overwriteBatchCase } from './overwrite-batch-case.ts';
import { activity, purchases, TEST_VIEWS } from './test-views.ts';

let cluster: LocalRedisCluster;
beforeAll(async () => {
  cluster = await startRedisCluster(3);
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
});

const store = (options: OnlineStoreOptions) =>
  createOnlineStore(
    { type: 'redis-cluster', nodes: cluster.nodes, maxRetriesPerRequest: 1 },
    options,
  );

onlineStoreConformance('redis-cluster', store);
// The per-key HGETALL read path (a request needing more than 1,000 fields).
onlineStoreConformance('redis-cluster (whole-hash reads)', (options) => {
  const config = {
    type: 'redis-cluster' as const,
    nodes: cluster.nodes,
    maxRetriesPerRequest: 1,
  };
  return new RedisOnlineStore(redisClusterTopology(config), options, {
    ...config,
    reads: 'hashes',
  });
});

describe('Redis Cluster online store', () => {
  const NOW = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;

  it('computes slots like Redis (CLUSTER KEYSLOT)', async () => {
    const node = new Redis(cluster.nodes[0]!.port, '127.0.0.1');
    try {
      for (const key of [
        'foo',
        'larder:activity:{u1}',
        '{user1000}.following',
        'a{}b',
        'ü{ñ}',
        `x:${randomUUID()}`,
      ]) {
        expect(keySlot(key)).toBe(await node.cluster('KEYSLOT', key));
      }
    } finally {
      await node.quit();
    }
  });

  it('overwrites the keys of one slot per script call, storing what one-key calls store', async () => {
    const raw = new Cluster(cluster.nodes);
    try {
      const writes = await overwriteBatchCase(store, raw);
      // One call per slot: 601 entities (an entity's views share its slot), one pipeline per
      // master, so the calls add up to the slots written; the lifetime keys' 200 slots likewise.
      const slots = (keys: string[]) => new Set(keys.map((k) => keySlot(`x:{${k}}`))).size;
      const users = Array.from({ length: 600 }, (_, i) => `user-${i}`);
      expect(writes).toHaveLength(6); // tiles, then lifetimes: one pipeline per master (3) each
      expect(writes.slice(0, 3).reduce((n, t) => n + t.commands, 0)).toBe(
        slots(['wide', ...users]),
      );
      expect(writes.slice(3).reduce((n, t) => n + t.commands, 0)).toBe(slots(users.slice(0, 200)));
    } finally {
      await raw.quit();
    }
  });

  it('writes tiles and merges lifetime states in one call per slot (writeTilesMergeLifetime)', async () => {
    const raw = new Cluster(cluster.nodes);
    try {
      const calls = (await loadBatchCase(store, raw)).filter((t) => t.op !== 'sample');
      const slots = (keys: string[]) => new Set(keys.map((k) => keySlot(`x:{${k}}`))).size;
      const users = Array.from({ length: 600 }, (_, i) => `user-${i}`);
      const sum = (op: string) =>
        calls.filter((t) => t.op === op).reduce((n, t) => n + t.commands, 0);
      // Blind: one call per slot; then the 10 users holding a newer state, read and retried.
      expect(sum('merge-cas')).toBe(slots(['wide', ...users]) + slots(users.slice(0, 10)));
      expect(sum('merge-read')).toBe(10);
    } finally {
      await raw.quit();
    }
  });

  it('merges the keys of one slot per compare-and-set call, retrying only the keys a concurrent writer changed', async () => {
    const raw = new Cluster(cluster.nodes);
    try {
      const config = { type: 'redis-cluster' as const, nodes: cluster.nodes };
      const attempts = await mergeBatchCase(() => redisClusterTopology(config), raw);
      // One call per slot (an entity's views share its slot), one pipeline per master.
      const slots = (keys: string[]) => new Set(keys.map((k) => keySlot(`x:{${k}}`))).size;
      const users = Array.from({ length: 600 }, (_, i) => `user-${i}`);
      const sum = (trips: number[]) => trips.reduce((n, c) => n + c, 0);
      // Each merge: the blind try and the read attempt (every key), then the writer's keys.
      expect(attempts.tiles.map(sum)).toEqual([
        slots(['wide', ...users]),
        slots(['wide', ...users]),
        slots(['wide', ...users.slice(0, 20)]),
      ]);
      expect(attempts.lifetime.map(sum)).toEqual([
        slots(users.slice(0, 200)),
        slots(users.slice(0, 200)),
        slots(users.slice(0, 10)),
      ]);
    } finally {
      await raw.quit();
    }
  });

  it('keeps every view of one entity in one slot, spreads entities over the masters, one round trip per master', async () => {
    const trips: { op: string; commands: number }[] = [];
    const namespace = `test-${randomUUID()}`;
    const s = store({ namespace, views: TEST_VIEWS, onRoundTrip: (e) => trips.push(e) });
    await s.init();
    try {
      const users = Array.from({ length: 60 }, (_, i) => `user-${i}`);
      await s.writeTiles(
        users.map((u) => ({
          view: 'activity',
          entityKey: u,
          hopMs: MINUTE_MS,
          hop: Math.floor(NOW / MINUTE_MS),
          states: { clicks_1h: 2 },
        })),
      );
      await s.writeLifetime(
        users.map((u) => ({
          view: 'purchases',
          entityKey: u,
          states: { last_amount: { v: 3, ts: NOW, id: 't' } },
        })),
      );
      for (const u of users)
        expect(keySlot(`${namespace}:activity:{${u}}`)).toBe(
          keySlot(`${namespace}:purchases:{${u}}`),
        );
      trips.length = 0;
      const [a, p] = await s.readMany([
        { view: activity, features: ['clicks_1h'], entityKeys: users, t: NOW },
        { view: purchases, features: ['last_amount'], entityKeys: users, t: NOW },
      ]);
      expect(trips).toHaveLength(3);
      expect(trips.reduce((n, t) => n + t.commands, 0)).toBe(120);
      expect(a!.rows.map((r) => r[0]!.value)).toEqual(users.map(() => 2));
      expect(p!.rows.map((r) => r[0]!.value)).toEqual(users.map(() => 3));
      // Data landed on every master, and teardown clears them all.
      const counts = await Promise.all(
        cluster.nodes.map(async (n) => {
          const r = new Redis(n.port, '127.0.0.1');
          const keys = await r.keys(`${namespace}:*`);
          await r.quit();
          return keys.length;
        }),
      );
      expect(counts.every((c) => c > 0)).toBe(true);
      await s.teardown();
      const after = await s.readMany([{ view: activity, entityKeys: users, t: NOW }]);
      expect(after[0]!.rows.every((r) => r[0]!.status === 'NOT_FOUND')).toBe(true);
    } finally {
      await s.close();
    }
  });

  it('samples entity keys from the key sample the writers keep, without SCAN', async () => {
    const namespace = `test-${randomUUID()}`;
    const config = {
      type: 'redis-cluster' as const,
      nodes: cluster.nodes,
      maxRetriesPerRequest: 1,
    };
    const s = new RedisOnlineStore(
      redisClusterTopology(config),
      { namespace, views: TEST_VIEWS },
      { ...config, sampleScanPages: 0 },
    );
    await s.init();
    try {
      const users = ['user-1', 'user-2', 'user-3'];
      await s.writeTiles(
        users.map((u) => ({
          view: 'activity',
          entityKey: u,
          hopMs: MINUTE_MS,
          hop: Math.floor(NOW / MINUTE_MS),
          states: { clicks_1h: 2 },
        })),
      );
      expect((await s.sampleEntityKeys('activity', 5)).sort()).toEqual(users);
      expect(await s.sampleEntityKeys('purchases', 5)).toEqual([]);
      await s.teardown();
      expect(await s.sampleEntityKeys('activity', 5)).toEqual([]);
    } finally {
      await s.close();
    }
  });

  it('a batch refused after it was marked pending can be applied in parts (bisection), each slot once', async () => {
    const namespace = `test-${randomUUID()}`;
    const s = store({ namespace, views: TEST_VIEWS });
    await s.init();
    const tile = (u: string) => ({
      view: 'activity',
      entityKey: u,
      hopMs: MINUTE_MS,
      hop: Math.floor(NOW / MINUTE_MS),
      states: { clicks_1h: 1 },
    });
    const ck = (from: number, offset: number) => ({
      group: 'g',
      topic: 't',
      partition: 0,
      from,
      offset,
    });
    // Another writer's string where the entity's hash belongs: Redis answers WRONGTYPE.
    const bad = 'user-wrongtype';
    const node = new Redis.Cluster(cluster.nodes);
    try {
      await node.set(`${namespace}:activity:{${bad}}`, 'not a hash');
      await expect(
        s.applyStreamBatch({
          tiles: [tile('user-a'), tile(bad)],
          lifetime: [],
          checkpoint: ck(0, 9),
        }),
      ).rejects.toMatchObject({
        code: 'LARDER_STORE_REJECTED',
        detail: { store: 'redis-cluster', op: 'stream-read' },
      });
      expect(await s.readCheckpoints('g', 't')).toEqual([{ partition: 0, offset: -1, pending: 9 }]);
      // The worker bisects: offsets 0..4 without the bad record, 5 dead-lettered (empty), 6..9.
      expect(
        await s.applyStreamBatch({ tiles: [tile('user-a')], lifetime: [], checkpoint: ck(0, 4) }),
      ).toBe('applied');
      expect(await s.applyStreamBatch({ tiles: [], lifetime: [], checkpoint: ck(5, 5) })).toBe(
        'applied',
      );
      expect(await s.readCheckpoints('g', 't')).toEqual([{ partition: 0, offset: 5, pending: 9 }]);
      // A batch straddling the pending offset is still refused.
      expect(await s.applyStreamBatch({ tiles: [], lifetime: [], checkpoint: ck(6, 12) })).toBe(
        'overlap',
      );
      expect(
        await s.applyStreamBatch({ tiles: [tile('user-b')], lifetime: [], checkpoint: ck(6, 9) }),
      ).toBe('applied');
      expect(await s.readCheckpoints('g', 't')).toEqual([
        { partition: 0, offset: 9, pending: null },
      ]);
      const [r] = await s.readMany([
        { view: activity, features: ['clicks_1h'], entityKeys: ['user-a', 'user-b'], t: NOW },
      ]);
      expect(r!.rows.map((x) => x[0]!.value)).toEqual([1, 1]);
    } finally {
      await node.quit();
      await s.teardown();
      await s.close();
    }
  });
});

/**
 * Redis Cluster failover with a stream worker running: a real local cluster of 3 masters and 3
 * replicas, a master killed with SIGKILL mid-stream, its replica promoted by the cluster, the
 * killed node restarted (it rejoins as the new master's replica). The online store runs with
 * `waitReplicas: 1` (every acknowledged write is on a replica, so the promotion loses none):
 * the worker retries while the slots are down, serving answers again once the replica is
 * promoted, and every stored feature of every entity equals the reference at the end.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodeEntityKey } from '../../aggregation/tiles.ts';
import { createOnlineStore } from '../../online/create-online-store.ts';
import { keySlot } from '../../online/redis-cluster/key-slot.ts';
import { redisKey } from '../../online/redis/redis-keys.ts';
import { MINUTE_MS } from '../../core/duration.ts';
import { TEST_VIEWS } from './test-views.ts';
import { startRedisCluster, type LocalRedisCluster } from '../support/redis-cluster.ts';
import {
  createTestTopics,
  expectReferenceValues,
  history,
  loadFeatures,
  produceHistory,
  startTestWorker,
  waitConsumed,
} from '../streaming/stream-fixture.ts';

let cluster: LocalRedisCluster;
beforeAll(async () => {
  cluster = await startRedisCluster(3, { replicas: 1, nodeTimeoutMs: 1000 });
}, 90_000);
afterAll(async () => {
  await cluster?.stop();
});

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Polls `ok` every 100 ms until it holds; returns how long that took. */
async function within(what: string, ms: number, ok: () => Promise<boolean>): Promise<number> {
  const start = Date.now();
  let last: unknown = 'false';
  while (
    !(await ok().catch((e: unknown) => {
      last = e;
      return false;
    }))
  ) {
    if (Date.now() - start > ms)
      throw new Error(`${what}: not within ${ms} ms (last: ${String(last)})`);
    await sleep(100);
  }
  return Date.now() - start;
}

describe('Redis Cluster failover (3 masters + 3 replicas, kill -9 of a master)', () => {
  it('a replica takes over, serving recovers, streamed values stay exact', async () => {
    const repo = await loadFeatures();
    const views = [...repo.featureViews.values()].map((v) => v.spec);
    const namespace = `test-${randomUUID()}`;
    const store = createOnlineStore(
      {
        type: 'redis-cluster',
        nodes: cluster.nodes,
        maxRetriesPerRequest: 1,
        waitReplicas: 1,
        waitTimeoutMs: 500,
      },
      { namespace, views },
    );
    await store.init();
    cleanups.push(async () => {
      await store.teardown();
      await store.close();
    });
    const topics = await createTestTopics(2);
    cleanups.push(topics.cleanup);
    const h = history({ events: 6000, seed: 77 });

    // The master to kill serves the first user's user_activity key.
    const userActivity = repo.featureViews.get('user_activity')!.spec;
    const probeKey = encodeEntityKey([h.users[0]!]);
    const slot = keySlot(redisKey(namespace, 'user_activity', probeKey));
    /** The healthy master serving `slot`, as a node other than `not` sees it. */
    const ownerOf = (not: number): number | undefined =>
      cluster
        .roles(cluster.ports.find((p) => p !== not)!)
        .find(
          (n) =>
            n.role === 'master' && !n.failed && n.slots.some(([a, b]) => slot >= a && slot <= b),
        )?.port;
    const victim = ownerOf(-1)!;
    expect(cluster.nodes.map((n) => n.port)).toContain(victim);

    // A quarter of the records before the worker starts, the rest while it runs.
    const quarter = Math.floor(h.records.length / 4);
    await produceHistory(topics, { ...h, records: h.records.slice(0, quarter) });
    await startTestWorker(store, topics, cleanups, {
      repo,
      maxBatchRecords: 100,
      retryBackoffMs: { initial: 50, max: 500 },
    });
    const producing = produceHistory(topics, { ...h, records: h.records.slice(quarter) }, 1500);

    await sleep(1000);
    await cluster.killPort(victim);
    // The cluster marks the master failed after the node timeout and promotes its replica.
    const failover = await within('a replica promoted', 20_000, async () => {
      const p = ownerOf(victim);
      return p !== undefined && p !== victim;
    });
    // Serving the killed master's slots recovers once the client sees the new slot map.
    const read = async (): Promise<boolean> => {
      const [res] = await store.readMany([
        { view: userActivity, features: ['events_24h'], entityKeys: [probeKey], t: h.t },
      ]);
      return res!.rows.length === 1;
    };
    const serving = await within('serving after failover', 20_000, read);
    // The old master returns as the new master's replica: writes (WAIT 1) flow again.
    await cluster.restartPort(victim);
    await within('the old master back as a replica', 20_000, async () =>
      cluster.roles(victim).some((r) => r.port === victim && r.role === 'slave'),
    );
    await producing;
    await waitConsumed(store, `${namespace}-stream`, topics.all, 120_000);
    const compared = await expectReferenceValues(repo, store, h);
    expect(compared).toBeGreaterThan(1000);
    expect(failover).toBeLessThan(20_000);
    expect(serving).toBeLessThan(20_000);
  }, 240_000);

  it('waitReplicas above the replicas a master has: writes fail as retriable LARDER_STORE_UNAVAILABLE', async () => {
    const store = createOnlineStore(
      { type: 'redis-cluster', nodes: cluster.nodes, waitReplicas: 2, waitTimeoutMs: 100 },
      { namespace: `test-${randomUUID()}`, views: TEST_VIEWS },
    );
    await store.init();
    try {
      // Empty writes send nothing, so they wait for nothing.
      await store.writeTiles([]);
      await store.mergeTiles([]);
      const tile = {
        view: 'activity',
        entityKey: encodeEntityKey(['u1']),
        hopMs: MINUTE_MS,
        hop: Math.floor(Date.now() / MINUTE_MS),
        states: { clicks_1h: 1 },
      };
      for (const write of [() => store.writeTiles([tile]), () => store.mergeTiles([tile])]) {
        const failed = await write().then(
          () => null,
          (e: unknown) => e as { code?: string; retriable?: boolean; message: string },
        );
        expect(failed?.code).toBe('LARDER_STORE_UNAVAILABLE');
        expect(failed?.retriable).toBe(true);
        expect(failed?.message).toMatch(
          /only 1 of 2 replica\(s\) acknowledged the write within 100 ms/,
        );
      }
    } finally {
      await store.teardown();
      await store.close();
    }
  });
});

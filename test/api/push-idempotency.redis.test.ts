/**
 * `POST /push` idempotency on Redis and Redis Cluster: two servers (as two server processes)
 * sharing one store and namespace.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe } from 'vitest';
import type { OnlineStoreConfig } from '../../config/config.ts';
import { startRedisCluster, type LocalRedisCluster } from '../support/redis-cluster.ts';
import { tempRepo } from '../support/temp-repo.ts';
import { pushIdempotencyContract } from './push-idempotency.ts';
import { PUSH_REPO, serveRepo, type Served } from './serve-fixture.ts';

const repo = tempRepo({ 'repo.ts': PUSH_REPO });
// Redis expires keys on its own clock: the servers' clock is about now.
const NOW = Math.floor(Date.now() / 60_000) * 60_000;
afterAll(() => repo.cleanup());

const serveTwo = (store: () => OnlineStoreConfig) => {
  let a: Served;
  let b: Served;
  beforeAll(async () => {
    const namespace = `t${randomUUID().slice(0, 8)}`;
    const opts = { namespace, clock: () => NOW, storeNow: NOW };
    a = await serveRepo(repo.dir, { store: store(), ...opts });
    b = await serveRepo(repo.dir, { store: store(), ...opts });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });
  return (): [Served, Served] => [a, b];
};

describe('POST /push with Idempotency-Key (Redis)', () => {
  pushIdempotencyContract(
    serveTwo(() => ({
      type: 'redis',
      url: process.env.LARDER_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0',
    })),
    NOW,
  );
});

describe('POST /push with Idempotency-Key (Redis Cluster)', () => {
  let cluster: LocalRedisCluster;
  beforeAll(async () => {
    cluster = await startRedisCluster(3);
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });
  pushIdempotencyContract(
    serveTwo(() => ({ type: 'redis-cluster', nodes: cluster.nodes })),
    NOW,
  );
});

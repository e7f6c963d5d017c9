/**
 * A Redis outage under load, on a real redis-server (and one master of a real Redis Cluster)
 * that the test stops and starts again: every request and `/ready` made while the store is
 * down is answered 503 LARDER_STORE_UNAVAILABLE with Retry-After before the store comes back
 * (nothing waits in a client queue for the outage to end), and serving recovers without a
 * restart.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { OnlineStoreConfig } from '../../config/config.ts';
import { serveRepo, T0, type Served } from '../api/serve-fixture.ts';
import { startRedisCluster } from '../support/redis-cluster.ts';
import { startRedisServer } from '../support/redis-server.ts';
import { BASE_REPO, tempRepo } from '../support/temp-repo.ts';
import { errorOf } from '../api/error-of.ts';

const PUSH_REPO = BASE_REPO.replace('import { batchSource,', 'import { pushSource, batchSource,')
  .replace(
    'export const activity = featureView({',
    "export const eventsPush = pushSource({ name: 'events_push', batchSource: events });\nexport const activity = featureView({",
  )
  .replace('source: events,', 'source: eventsPush,');

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Enough users that a read touches every cluster master. */
const USERS = Array.from({ length: 40 }, (_, i) => `u${i}`);

interface Answer {
  route: string;
  status: number;
  code: string | undefined;
  retryAfter: string | undefined;
  start: number;
  end: number;
}

async function served(store: OnlineStoreConfig): Promise<Served> {
  const repo = tempRepo({ 'repo.ts': PUSH_REPO });
  cleanups.push(repo.cleanup);
  const s = await serveRepo(repo.dir, { store });
  cleanups.push(s.close);
  return s;
}

async function call(s: Served, route: 'read' | 'push' | 'ready', n: number): Promise<Answer> {
  const start = performance.now();
  const res =
    route === 'ready'
      ? await s.app.inject({ method: 'GET', url: '/ready' })
      : route === 'read'
        ? await s.app.inject({
            method: 'POST',
            url: '/get-online-features',
            payload: { features: ['activity:clicks_1h'], entities: { user_id: USERS } },
          })
        : await s.app.inject({
            method: 'POST',
            url: '/push',
            payload: {
              push_source_name: 'events_push',
              // Every user: a push that touches every cluster master.
              df: {
                id: USERS.map((u) => `e${n}-${u}`),
                userId: USERS,
                kind: USERS.map(() => 'click'),
                amount: USERS.map(() => 1),
                ts: USERS.map(() => T0 - 60_000),
              },
              to: 'online',
            },
          });
  return {
    route,
    status: res.statusCode,
    code: res.statusCode === 200 ? undefined : errorOf(res).code,
    retryAfter: res.headers['retry-after'] as string | undefined,
    start,
    end: performance.now(),
  };
}

/** Concurrent request loops (reads, pushes, /ready) until `stop()`; `stop` resolves with every answer. */
function load(s: Served) {
  const answers: Answer[] = [];
  let running = true;
  let n = 0;
  const loop = async (route: 'read' | 'push' | 'ready') => {
    while (running) {
      answers.push(await call(s, route, n++));
      await new Promise((r) => setTimeout(r, 10)); // steady load, not a busy loop
    }
  };
  const loops = [loop('read'), loop('read'), loop('push'), loop('ready')];
  // A failed test stops its loops before the server closes.
  cleanups.push(() => void (running = false));
  return {
    answers,
    /** Stops the loops; rejects when a request is still unanswered after `deadlineMs`. */
    async stop(deadlineMs = 15_000): Promise<void> {
      running = false;
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(new Error(`requests still unanswered ${deadlineMs} ms after the last was sent`)),
          deadlineMs,
        );
      });
      try {
        await Promise.race([Promise.all(loops), deadline]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

const waitUntil = async (what: string, ok: () => Promise<boolean>, timeoutMs = 30_000) => {
  const end = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

/**
 * Healthy load, outage (`down`) held for `outageMs` under load, the store back (`up`): every
 * answer sent during the outage is a 503 with Retry-After, answered before `up` began.
 */
async function outage(s: Served, down: () => Promise<void>, up: () => Promise<void>) {
  // Healthy: everything answers 200.
  const healthy = load(s);
  await waitUntil('healthy answers', async () => healthy.answers.length >= 40);
  await healthy.stop();
  expect(healthy.answers.filter((a) => a.status !== 200)).toEqual([]);

  await down();
  const during = load(s);
  // Keep the store down while the load runs: long enough for every reconnect and queue timer
  // of the client to fire several times.
  await waitUntil('answers during the outage', async () => during.answers.length >= 100, 60_000);
  await new Promise((r) => setTimeout(r, 3000));
  await during.stop();
  const upAt = performance.now();
  await up();

  const byRoute = (route: string) => during.answers.filter((a) => a.route === route);
  for (const route of ['read', 'push', 'ready']) expect(byRoute(route).length).toBeGreaterThan(3);
  for (const a of during.answers) {
    expect({ route: a.route, status: a.status, code: a.code, retryAfter: a.retryAfter }).toEqual({
      route: a.route,
      status: 503,
      code: 'LARDER_STORE_UNAVAILABLE',
      retryAfter: '1',
    });
    expect(a.end).toBeLessThan(upAt);
  }

  // Recovery without a restart: /ready turns 200 and every request answers 200 again.
  await waitUntil(
    '/ready 200 after the store is back',
    async () => (await call(s, 'ready', 0)).status === 200,
  );
  const after = load(s);
  await waitUntil('answers after recovery', async () => after.answers.length >= 40);
  await after.stop();
  expect(after.answers.filter((a) => a.status !== 200)).toEqual([]);
}

describe('Redis outage: fail fast, recover without a restart', () => {
  it('single Redis stopped under load: 503 + Retry-After for the whole outage, then 200', async () => {
    const redis = await startRedisServer();
    cleanups.push(redis.close);
    const s = await served({ type: 'redis', url: redis.url });
    await outage(s, redis.stop, redis.start);
  }, 120_000);

  it('Redis Cluster with one master stopped under load: 503 + Retry-After for the whole outage, then 200', async () => {
    const cluster = await startRedisCluster(3);
    cleanups.push(cluster.stop);
    const s = await served({ type: 'redis-cluster', nodes: cluster.nodes });
    await outage(
      s,
      () => cluster.stopNode(1),
      () => cluster.startNode(1),
    );
  }, 120_000);
});

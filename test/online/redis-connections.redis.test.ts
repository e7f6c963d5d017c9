/**
 * How many connections a single-Redis online store opens: one for writes and scripts, and the
 * plain read connection (`online/redis/plain-reads.ts`) only once something reads — stream
 * workers and `larder materialize`, which only write, open one. Counted on a private
 * redis-server (`CLIENT LIST`, `INFO stats`' connections received), so nothing else connects.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOnlineStore } from '../../online/create-online-store.ts';
import { loadRepository } from '../../definitions/load.ts';
import { redisCli, startRedisServer, type LocalRedis } from '../support/redis-server.ts';
import { tempDir } from '../support/temp-repo.ts';

const run = promisify(execFile);
const tmp = tempDir();
let redis: LocalRedis;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.close();
  tmp.cleanup();
});

/** Clients connected now, the `redis-cli` asking excluded. */
const clients = (): number =>
  redisCli(redis.port, 'client', 'list')
    .split('\n')
    .filter((l) => l.includes('addr=') && !l.includes('cmd=client')).length;

/** Connections the server accepted so far, the `redis-cli` asking included. */
const received = (): number =>
  Number(/total_connections_received:(\d+)/.exec(redisCli(redis.port, 'info', 'stats'))![1]);

describe('single-Redis online store connections', () => {
  it('a writer opens one connection; the first read opens the read connection', async () => {
    const repo = await loadRepository('examples/ecommerce/features');
    const views = [...repo.featureViews.values()].map((v) => v.spec);
    const store = createOnlineStore(
      { type: 'redis', url: redis.url },
      { namespace: `test-${randomUUID()}`, views },
    );
    await store.init();
    try {
      const end = Math.floor(Date.now() / 60_000) * 60_000;
      await store.writeTiles([
        {
          view: 'user_activity',
          entityKey: 'u1',
          hopMs: 60_000,
          hop: Math.floor(end / 60_000),
          states: { page_views_1h: 1, clicks_1h: 0 },
        },
      ]);
      expect(clients()).toBe(1);
      const view = repo.featureViews.get('user_activity')!.spec;
      const read = await store.readMany([{ view, entityKeys: ['u1'], t: end }]);
      expect(read[0]!.rows[0]![0]).toMatchObject({ status: 'PRESENT', value: 1 });
      expect(clients()).toBe(2);
      // Later reads use it.
      const again = await store.readMany([{ view, entityKeys: ['u1', 'u2'], t: end }]);
      expect(again[0]!.rows.map((r) => r[0]!.status)).toEqual(['PRESENT', 'NOT_FOUND']);
      expect(clients()).toBe(2);
    } finally {
      await store.close();
    }
  });

  it('larder materialize opens one connection', async () => {
    const env = {
      ...process.env,
      LARDER_HOME: `${tmp.dir}/home`,
      LARDER_DATA_DIR: `${tmp.dir}/data`,
      LARDER_ONLINE_STORE: redis.url,
      LARDER_NAMESPACE: `test-${randomUUID()}`,
    };
    const larder = (...args: string[]) => run('node', ['bin/larder.js', ...args], { env });
    const end = Math.floor(Date.now() / 60_000) * 60_000;
    await larder(
      'gen-data',
      '--users',
      '10',
      '--products',
      '10',
      '--days',
      '1',
      '--events',
      '300',
      '--end',
      new Date(end).toISOString(),
    );
    await larder('apply');
    const before = received();
    const m = JSON.parse((await larder('materialize', '--end', String(end), '--json')).stdout);
    expect(m.views.length).toBeGreaterThan(0);
    // One for the materialization, one for `INFO` itself.
    expect(received() - before).toBe(2);
  }, 120_000);
});

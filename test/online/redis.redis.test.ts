import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { HOUR_MS, MINUTE_MS } from '../../core/duration.ts';
import { createOnlineStore } from '../../online/create-online-store.ts';
import { RedisOnlineStore } from '../../online/redis/redis-online-store.ts';
import { SET_FIELDS_LUA } from '../../online/redis/redis-scripts.ts';
import { singleRedisTopology } from '../../online/redis/redis-topology.ts';
import { onlineStoreConformance } from './online-store-conformance.ts';
import { mergeBatchCase } from './merge-batch-case.ts';
import { loadBatchCase, overwriteBatchCase } from './overwrite-batch-case.ts';
import { activity, purchases, TEST_VIEWS } from './test-views.ts';

const URL = process.env.LARDER_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const config = {
  type: 'redis' as const,
  url: URL,
  maxRetriesPerRequest: 1,
  connectTimeoutMs: 2000,
};

onlineStoreConformance('redis', (options) => createOnlineStore(config, options));
// The HGETALL read path (a request needing more than 1,000 fields), on every conformance case.
onlineStoreConformance(
  'redis (whole-hash reads)',
  (options) =>
    new RedisOnlineStore(singleRedisTopology(config), options, { ...config, reads: 'hashes' }),
);
// Reads through lua/read-entities.lua (what a store reads through while its plain-command
// connection is not ready), on every conformance case.
onlineStoreConformance(
  'redis (script reads)',
  (options) =>
    new RedisOnlineStore(singleRedisTopology(config), options, { ...config, plainReads: false }),
);

describe('Redis online store', () => {
  const raw = new Redis(URL);
  afterAll(() => raw.quit());
  const NOW = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;

  const commandCalls = async (cmd: string): Promise<number> => {
    const m = new RegExp(`cmdstat_${cmd}:calls=(\\d+)`).exec(await raw.info('commandstats'));
    return m ? Number(m[1]) : 0;
  };

  it.each([
    ['plain commands in one MULTI', true],
    ['one script call per 512 keys', false],
  ])('reads N entities of several views in one round trip: %s', async (_, plainReads) => {
    const trips: { op: string; commands: number }[] = [];
    const namespace = `test-${randomUUID()}`;
    const s = new RedisOnlineStore(
      singleRedisTopology(config),
      { namespace, views: TEST_VIEWS, onRoundTrip: (e) => trips.push(e) },
      { ...config, plainReads },
    );
    await s.init();
    try {
      const users = Array.from({ length: 400 }, (_, i) => `u${i}`);
      await s.writeTiles(
        users.map((u) => ({
          view: 'activity',
          entityKey: u,
          hopMs: MINUTE_MS,
          hop: Math.floor(NOW / MINUTE_MS),
          states: { clicks_1h: 1 },
        })),
      );
      trips.length = 0;
      const before = await commandCalls('hmget');
      const hgetall = await commandCalls('hgetall');
      // 400 whole hashes (every activity feature: more than 64 fields), then 300 + 1 and 400
      // keys read for their fields: 1,101 keys, so calls of 512, 512 and 77 keys, the second
      // request's keys split across the first two calls.
      const some = [...users.slice(100), 'nobody'];
      const [whole, a, p] = await s.readMany([
        { view: activity, entityKeys: users, t: NOW },
        { view: activity, features: ['clicks_1h'], entityKeys: some, t: NOW },
        { view: purchases, entityKeys: users, t: NOW },
      ]);
      const after = await commandCalls('hmget');
      // One round trip: MULTI, 400 HGETALLs, 701 HMGET + EXISTS, EXEC; or
      // lua/read-entities.lua once per 512 keys across every request (the HGETALL or the
      // HMGET of each key inside the script).
      expect(trips).toEqual([{ op: 'read', commands: plainReads ? 1 + 400 + 2 * 701 + 1 : 3 }]);
      // INFO commandstats is server-wide: other clients of the shared Redis may add calls.
      expect(after - before).toBeGreaterThanOrEqual(701);
      expect((await commandCalls('hgetall')) - hgetall).toBeGreaterThanOrEqual(400);
      const clicks = whole!.features.indexOf('clicks_1h');
      expect(whole!.rows.every((r) => r[clicks]!.value === 1)).toBe(true);
      expect(a!.rows.slice(0, 300).every((r) => r[0]!.value === 1)).toBe(true);
      expect(a!.rows[300]![0]!.status).toBe('NOT_FOUND');
      expect(p!.rows).toHaveLength(400);
      // A user with activity tiles but no purchases key at all.
      expect(p!.rows.every((r) => r[0]!.status === 'NOT_FOUND')).toBe(true);
    } finally {
      await s.teardown();
      await s.close();
    }
  });

  it('overwrites up to 500 keys per script call, storing what one-key calls store', async () => {
    const writes = await overwriteBatchCase((options) => createOnlineStore(config, options), raw);
    // 1,201 keys (1,202 segments: one key has 1,400 fields) in calls of at most 500 keys or
    // 5,000 arguments: 3 calls; then the 200 lifetime keys, 1 call. One round trip each.
    expect(writes).toEqual([
      { op: 'write', commands: 3 },
      { op: 'write', commands: 1 },
    ]);
  });

  it('writes tiles and merges lifetime states in one call per key (writeTilesMergeLifetime)', async () => {
    const calls = await loadBatchCase((options) => createOnlineStore(config, options), raw);
    // 1,201 keys (1,202 segments) in calls of at most 500 keys or 5,000 arguments: 3 calls,
    // the lifetime states blind (no read); then the 10 users holding a newer state read and
    // retried in one call.
    expect(calls.filter((t) => t.op !== 'sample')).toEqual([
      { op: 'merge-cas', commands: 3 },
      { op: 'merge-read', commands: 1 },
      { op: 'merge-cas', commands: 1 },
    ]);
  });

  it('merges up to 500 keys per compare-and-set call, retrying only the keys a concurrent writer changed', async () => {
    const attempts = await mergeBatchCase(() => singleRedisTopology(config), raw);
    // 1,201 keys (1,202 segments) in calls of at most 500 keys or 5,000 arguments: the wide
    // key's 1,000 + 400 triples fill most of the first call (the blind try, then the read
    // attempt); then the 21 segments the writer changed, in one call. The 200 lifetime keys
    // in one call (twice), then the writer's 10.
    expect(attempts).toEqual({ tiles: [[4], [4], [1]], lifetime: [[1], [1], [1]] });
  });

  it('reads a merge in few script calls: 600 keys, and one key with 1,400 fields', async () => {
    // A minute-hop feature over a day: one entity can hold 1,441 live tiles.
    const minutes = {
      ...activity,
      name: 'minutes',
      features: [{ ...activity.features[0]!, name: 'n_1d', windowMs: 24 * HOUR_MS }],
    };
    const trips: { op: string; commands: number }[] = [];
    const s = createOnlineStore(config, {
      namespace: `test-${randomUUID()}`,
      views: [minutes],
      clock: () => NOW,
      onRoundTrip: (e) => trips.push(e),
    });
    await s.init();
    try {
      const hop = Math.floor(NOW / MINUTE_MS);
      const wide = (n: number) =>
        Array.from({ length: 1400 }, (_, i) => ({
          view: 'minutes',
          entityKey: 'wide',
          hopMs: MINUTE_MS,
          hop: hop - i,
          states: { n_1d: n },
        }));
      const many = (n: number) =>
        Array.from({ length: 600 }, (_, i) => ({
          view: 'minutes',
          entityKey: `u${i}`,
          hopMs: MINUTE_MS,
          hop,
          states: { n_1d: n },
        }));
      const batch = (n: number, offset: number) =>
        s.applyStreamBatch({
          tiles: [...wide(n), ...many(n)],
          lifetime: [],
          checkpoint: { group: 'g', topic: 't', partition: 0, from: offset, offset },
        });
      expect(await batch(1, 0)).toBe('applied');
      trips.length = 0;
      expect(await batch(2, 1)).toBe('applied');
      // 601 keys and 2,000 field names: two merge-read calls (512 keys each at most), one trip.
      expect(trips.filter((t) => t.op === 'stream-read')).toEqual([
        { op: 'stream-read', commands: 2 },
      ]);
      const [w, u] = await s.readMany([
        { view: minutes, entityKeys: ['wide'], t: NOW },
        { view: minutes, entityKeys: ['u0', 'u599'], t: NOW },
      ]);
      expect(w!.rows[0]![0]!.value).toBe(1400 * 3);
      expect(u!.rows.map((r) => r[0]!.value)).toEqual([3, 3]);
    } finally {
      await s.teardown();
      await s.close();
    }
  });

  it('merges into absent fields with one blind compare-and-set (no read), and reads first after a merge whose fields existed', async () => {
    const trips: string[] = [];
    const s = createOnlineStore(config, {
      namespace: `test-${randomUUID()}`,
      views: TEST_VIEWS,
      clock: () => NOW,
      onRoundTrip: (e) => {
        if (e.op.startsWith('merge')) trips.push(e.op);
      },
    });
    await s.init();
    const life = (v: string, ts: number) =>
      Array.from({ length: 50 }, (_, i) => ({
        view: 'activity',
        entityKey: `u${i}`,
        states: { last_kind: { v, ts, id: 'e' } },
      }));
    try {
      await s.mergeLifetime(life('a', NOW - 2000)); // fields absent: one blind try
      expect(trips).toEqual(['merge-cas']);
      trips.length = 0;
      await s.mergeLifetime(life('b', NOW - 1000)); // blind: every key conflicts, then read
      expect(trips).toEqual(['merge-cas', 'merge-read', 'merge-cas']);
      trips.length = 0;
      await s.mergeLifetime(life('c', NOW - 3000)); // older: read first, nothing changes
      expect(trips).toEqual(['merge-read', 'merge-cas']);
      const [r] = await s.readMany([{ view: activity, entityKeys: ['u0', 'u49'], t: NOW }]);
      const kind = activity.features.findIndex((f) => f.name === 'last_kind');
      expect(r!.rows.map((row) => row[kind]!.value)).toEqual(['b', 'b']);
    } finally {
      await s.teardown();
      await s.close();
    }
  });

  it('prunes the stale tiles a write creates, in a new hash as in an older one', async () => {
    const ns = `test-${randomUUID()}`;
    const [fresh, old] = [`${ns}:a:{fresh}`, `${ns}:a:{old}`];
    await raw.hset(old, 'l:x', '1');
    // Hop size 60000 retained 3600000 ms: tile 60000:k is stale once k * 60000 + 3600000 <= now.
    const now = NOW;
    const k = (NOW - 3_600_000) / 60_000;
    const fields = [`60000:${k - 1}`, '1', `60000:${k}`, '2', `60000:${k + 1}`, '3', 'l:y', '4'];
    try {
      for (const key of [fresh, old]) {
        const argv = [now, now + HOUR_MS, '60000:3600000', fields.length / 2, ...fields];
        await raw.eval(SET_FIELDS_LUA, 1, key, ...argv);
      }
      expect(Object.keys(await raw.hgetall(fresh)).sort()).toEqual([`60000:${k + 1}`, 'l:y']);
      expect(Object.keys(await raw.hgetall(old)).sort()).toEqual([`60000:${k + 1}`, 'l:x', 'l:y']);
      for (const key of [fresh, old]) expect(await raw.pexpiretime(key)).toBe(now + HOUR_MS);
    } finally {
      await raw.del(fresh, old);
    }
  });

  it('prefixes every key with the namespace and tags it with the entity key', async () => {
    const namespace = `test-${randomUUID()}`;
    const s = createOnlineStore(config, { namespace, views: TEST_VIEWS });
    await s.init();
    try {
      await s.writeTiles([
        {
          view: 'activity',
          entityKey: 'u1',
          hopMs: MINUTE_MS,
          hop: Math.floor(NOW / MINUTE_MS),
          states: { clicks_1h: 1 },
        },
      ]);
      await s.writeLifetime([
        { view: 'purchases', entityKey: 'u1', states: { last_amount: { v: 1, ts: NOW, id: 'a' } } },
      ]);
      const keys = (await raw.keys(`${namespace}:*`)).sort();
      // Each view's key sample (docs/online-store-format.md), then the entity hashes.
      expect(keys).toEqual([
        `${namespace}:__sample:activity`,
        `${namespace}:__sample:purchases`,
        `${namespace}:activity:{u1}`,
        `${namespace}:purchases:{u1}`,
      ]);
      expect(await raw.zrange(keys[0]!, '0', '-1')).toEqual(['u1']);
      expect(await raw.pexpiretime(keys[2]!)).toBeGreaterThan(Date.now());
      expect(await raw.hgetall(keys[2]!)).toEqual({
        [`${MINUTE_MS}:${Math.floor(NOW / MINUTE_MS)}`]: '{"clicks_1h":1}',
      });
    } finally {
      await s.teardown();
      await s.close();
    }
  });

  it('samples entity keys from the key sample the writers keep, without SCAN (any keyspace size)', async () => {
    const namespace = `test-${randomUUID()}`;
    const s = new RedisOnlineStore(
      singleRedisTopology(config),
      { namespace, views: TEST_VIEWS },
      { ...config, sampleScanPages: 0 },
    );
    await s.init();
    const tile = (u: string) => ({
      view: 'activity',
      entityKey: u,
      hopMs: MINUTE_MS,
      hop: Math.floor(NOW / MINUTE_MS),
      states: { clicks_1h: 1 },
    });
    const sample = `${namespace}:__sample:activity`;
    try {
      expect(await s.sampleEntityKeys('activity', 5)).toEqual([]);
      const users = Array.from({ length: 100 }, (_, i) => `u${i}`);
      await s.writeTiles(users.map(tile)); // 8 of a write's keys per view
      await s.mergeTiles([tile('late')]);
      await s.writeLifetime([
        {
          view: 'purchases',
          entityKey: 'p}1',
          states: { last_amount: { v: 1, ts: NOW, id: 'a' } },
        },
      ]);
      const got = await s.sampleEntityKeys('activity', 100);
      expect(got).toHaveLength(9);
      expect(got).toContain('late');
      expect([...users, 'late']).toEqual(expect.arrayContaining(got));
      expect(await s.sampleEntityKeys('activity', 3)).toHaveLength(3);
      expect(await s.sampleEntityKeys('purchases', 5)).toEqual(['p}1']);
      // A key gone (expired, deleted) is not sampled.
      await raw.del(`${namespace}:activity:{late}`);
      expect(await s.sampleEntityKeys('activity', 100)).not.toContain('late');
      // Every write adds until the store has added 64 keys of the view, then at most every 10 s;
      // the sample keeps the 64 most recent.
      const more = Array.from({ length: 64 }, (_, i) => `w${i}`);
      for (let b = 0; b < 8; b++) await s.writeTiles(more.slice(b * 8, b * 8 + 8).map(tile));
      expect(await raw.zcard(sample)).toBe(64); // 8 + 'late' + 56: the oldest one trimmed
      const after = await s.sampleEntityKeys('activity', 100);
      expect(after.filter((k) => more.slice(56).includes(k))).toEqual([]);
      expect(after.filter((k) => more.slice(0, 56).includes(k))).toHaveLength(56);
      await s.teardown();
      expect(await raw.exists(sample)).toBe(0);
    } finally {
      await s.close();
    }
  });

  it('fails with a retriable LARDER_STORE_UNAVAILABLE when Redis is not reachable', async () => {
    const s = createOnlineStore(
      {
        type: 'redis',
        url: 'redis://127.0.0.1:1/0',
        maxRetriesPerRequest: 0,
        connectTimeoutMs: 500,
      },
      { namespace: 'x', views: TEST_VIEWS },
    );
    await expect(s.ping()).rejects.toMatchObject({
      code: 'LARDER_STORE_UNAVAILABLE',
      retriable: true,
      detail: { store: 'redis', op: 'connect' },
    });
    await s.close();
  });
});

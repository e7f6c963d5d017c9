/**
 * The expiry a guarded merge (stream batch) leaves on a key, against the compare-and-set path
 * (`mergeTiles`, `extend()` only): the batch script gives a key its write created the expiry
 * with one command (`extend_written` in lua/includes/prune-and-extend.lua), and must leave the
 * same expiry as the reference whether the key is new, had no expiry, or already expired later.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { DAY_MS, MINUTE_MS } from '../../core/duration.ts';
import type { TileWrite } from '../../aggregation/tiles.ts';
import { createOnlineStore } from '../../online/create-online-store.ts';
import type { OnlineStore } from '../../online/online-store.ts';
import { redisKey } from '../../online/redis/redis-keys.ts';
import { TEST_VIEWS } from './test-views.ts';

const URL = process.env.LARDER_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const config = { type: 'redis' as const, url: URL, maxRetriesPerRequest: 1 };
const NOW = Date.now();

const tile = (minutesAgo: number, clicks: number): TileWrite => ({
  view: 'activity',
  entityKey: 'u1',
  hopMs: MINUTE_MS,
  hop: Math.floor((NOW - minutesAgo * MINUTE_MS) / MINUTE_MS),
  states: { clicks_1h: clicks },
});

describe('Redis stream batch: key expiry', () => {
  const raw = new Redis(URL);
  const stores: OnlineStore[] = [];
  afterAll(async () => {
    for (const s of stores) {
      await s.teardown();
      await s.close();
    }
    await raw.quit();
  });

  /** A store of its own namespace, and its `activity` key of `u1`. */
  const open = async (): Promise<{ s: OnlineStore; key: string }> => {
    const namespace = `test-${randomUUID()}`;
    const s = createOnlineStore(config, { namespace, views: TEST_VIEWS, clock: () => NOW });
    await s.init();
    stores.push(s);
    return { s, key: redisKey(namespace, 'activity', 'u1') };
  };
  let offset = 0;
  const batch = (s: OnlineStore, tiles: TileWrite[]) => {
    offset++;
    return s.applyStreamBatch({
      tiles,
      lifetime: [],
      checkpoint: { group: 'g', topic: 't', partition: 0, from: offset, offset },
    });
  };

  // Each case: what happens to the key before the write, then the write's tiles.
  const cases: [string, (key: string, s: OnlineStore) => Promise<unknown>, TileWrite[]][] = [
    ['a new key', async () => undefined, [tile(2, 1), tile(1, 1)]],
    [
      'a key without expiry',
      async (key, s) => {
        await s.mergeTiles([tile(30, 1)]);
        await raw.persist(key);
      },
      [tile(1, 1)],
    ],
    [
      'a key expiring later than the write asks',
      async (key, s) => {
        await s.mergeTiles([tile(30, 1)]);
        await raw.pexpireat(key, NOW + 40 * DAY_MS);
      },
      [tile(1, 1)],
    ],
    [
      'a key expiring earlier than the write asks',
      async (key, s) => {
        await s.mergeTiles([tile(50, 1)]);
        await raw.pexpireat(key, Date.now() + MINUTE_MS);
      },
      [tile(1, 1)],
    ],
  ];
  for (const [name, before, tiles] of cases) {
    it(`${name}: the expiry and fields of the compare-and-set path`, async () => {
      const stream = await open();
      const reference = await open();
      await before(stream.key, stream.s);
      await before(reference.key, reference.s);
      const held = name === 'a new key' ? 0 : 1;
      expect(await raw.hlen(stream.key)).toBe(held);
      expect(await batch(stream.s, tiles)).toBe('applied');
      await reference.s.mergeTiles(tiles);
      const expiry = await raw.pexpiretime(stream.key);
      expect(expiry).toBeGreaterThan(NOW);
      expect(expiry).toBe(await raw.pexpiretime(reference.key));
      expect(await raw.hgetall(stream.key)).toEqual(await raw.hgetall(reference.key));
    });
  }
});

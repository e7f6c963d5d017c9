/**
 * Redis and Redis Cluster: an overwrite batch spanning many keys (several per
 * `lua/set-fields.lua` call, several calls, on a cluster several slots) stores exactly the
 * hashes and expiries one-key calls store, prunes stale tiles the same way, and running it
 * twice changes nothing.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type { LifetimeWrite, TileWrite } from '../../aggregation/tiles.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../core/duration.ts';
import { tileField } from '../../online/field-names.ts';
import type { OnlineStore, OnlineStoreOptions } from '../../online/online-store.ts';
import { redisKey } from '../../online/redis/redis-keys.ts';
import { activity, purchases } from './test-views.ts';

/** The slice of an ioredis client (`Redis` or `Cluster`) the case reads and seeds with. */
export interface RawRedis {
  hgetall(key: string): Promise<Record<string, string>>;
  pexpiretime(key: string): Promise<number>;
  hset(key: string, field: string, value: string): Promise<number>;
}

/** A minute-hop feature over a day: one entity can hold 1,441 live tiles (two segments). */
const minutes = {
  ...activity,
  name: 'minutes',
  features: [{ ...activity.features[0]!, name: 'n_1d', windowMs: 24 * HOUR_MS }],
};

const NOW = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
const USERS = Array.from({ length: 600 }, (_, i) => `user-${i}`);

function tiles(n: number): TileWrite[] {
  const minute = Math.floor(NOW / MINUTE_MS);
  const out: TileWrite[] = Array.from({ length: 1400 }, (_, i) => ({
    view: 'minutes',
    entityKey: 'wide',
    hopMs: MINUTE_MS,
    hop: minute - i,
    states: { n_1d: n + i },
  }));
  USERS.forEach((u, i) => {
    out.push(
      {
        view: 'activity',
        entityKey: u,
        hopMs: MINUTE_MS,
        hop: minute - (i % 30),
        states: { clicks_1h: n },
      },
      {
        view: 'activity',
        entityKey: u,
        hopMs: HOUR_MS,
        hop: Math.floor(NOW / HOUR_MS) - (i % 5),
        states: { spend_7d: n * 1.5 },
      },
      {
        view: 'purchases',
        entityKey: u,
        hopMs: DAY_MS,
        hop: Math.floor(NOW / DAY_MS),
        states: { orders_30d: i },
      },
    );
  });
  return out;
}

const lifetimes = (n: number): LifetimeWrite[] =>
  USERS.slice(0, 200).map((u) => ({
    view: 'activity',
    entityKey: u,
    states: { last_kind: { v: `k${n}`, ts: NOW - 1000, id: 'e1' }, last_ts: null },
  }));

/** Every key the writes touch, as `[view, entity key]`. */
const KEYS: [string, string][] = [
  ['minutes', 'wide'],
  ...USERS.flatMap((u): [string, string][] => [
    ['activity', u],
    ['purchases', u],
  ]),
];

/** A tile of `minutes` long past its retention (a day and a minute), seeded before the writes. */
const STALE = tileField(MINUTE_MS, Math.floor(NOW / MINUTE_MS) - 3 * 24 * 60);

/**
 * Writes {@link tiles} and {@link lifetimes} into one namespace as one batch each, and into
 * another one (view, entity) group per call; checks the hashes and expiries agree key by key.
 * Returns the batched writes' round trips (`op: 'write'`), for the caller to check the calls.
 */
/** The tiles grouped by key, in first-seen order: what one-key calls write. */
function byKey(writes: TileWrite[]): TileWrite[][] {
  const groups = new Map<string, TileWrite[]>();
  for (const t of writes) {
    const id = `${t.view}\u0000${t.entityKey}`;
    groups.set(id, [...(groups.get(id) ?? []), t]);
  }
  return [...groups.values()];
}

/** Every case key's hash and expiry in `s`'s namespace. */
const snapshotKeys = (raw: RawRedis, s: OnlineStore) =>
  Promise.all(
    KEYS.map(async ([view, entity]) => ({
      hash: await raw.hgetall(redisKey(s.namespace, view, entity)),
      expireAt: await raw.pexpiretime(redisKey(s.namespace, view, entity)),
    })),
  );

export async function overwriteBatchCase(
  store: (options: OnlineStoreOptions) => OnlineStore,
  raw: RawRedis,
): Promise<{ commands: number }[]> {
  const trips: { op: string; commands: number }[] = [];
  const views = [minutes, activity, purchases];
  const batched = store({
    namespace: `test-${randomUUID()}`,
    views,
    clock: () => NOW,
    onRoundTrip: (e) => trips.push(e),
  });
  const single = store({ namespace: `test-${randomUUID()}`, views, clock: () => NOW });
  await batched.init();
  await single.init();
  try {
    const key = (s: OnlineStore, [view, entity]: [string, string]) =>
      redisKey(s.namespace, view, entity);
    for (const s of [batched, single]) await raw.hset(key(s, KEYS[0]!), STALE, '{"n_1d":1}');

    await batched.writeTiles(tiles(1));
    await batched.writeLifetime(lifetimes(1));
    const writes = trips.filter((t) => t.op === 'write');
    for (const g of byKey(tiles(1))) await single.writeTiles(g);
    for (const l of lifetimes(1)) await single.writeLifetime([l]);

    const snapshot = (s: OnlineStore) => snapshotKeys(raw, s);
    const once = await snapshot(batched);
    expect(once).toEqual(await snapshot(single));
    const wide = once[0]!.hash;
    expect(Object.keys(wide)).toHaveLength(1400);
    expect(wide[STALE]).toBeUndefined(); // pruned: the write created fields
    expect(once[1]!.hash['l:last_kind']).toBe(
      JSON.stringify({ v: 'k1', ts: NOW - 1000, id: 'e1' }),
    );
    expect(once.every((k) => k.expireAt > NOW)).toBe(true);

    // Idempotent: the same batch again leaves the same hashes and expiries.
    await batched.writeTiles(tiles(1));
    await batched.writeLifetime(lifetimes(1));
    expect(await snapshot(batched)).toEqual(once);
    return writes;
  } finally {
    await batched.teardown();
    await single.teardown();
    await batched.close();
    await single.close();
  }
}

/**
 * `writeTilesMergeLifetime` of {@link tiles} and {@link lifetimes} as one batch (one visit per
 * key: a key's tiles and lifetime states in one `lua/load-fields.lua` call; the wide key's
 * 1,400 tiles in two segments), into a namespace where 10 users already hold a newer lifetime
 * state, against `writeTiles` per (view, entity) then `mergeLifetime` per key in another: the
 * same hashes and expiries, the newer states kept; running it twice changes nothing. Returns the
 * batched store's round trips, for the caller to check the calls.
 */
export async function loadBatchCase(
  store: (options: OnlineStoreOptions) => OnlineStore,
  raw: RawRedis,
): Promise<{ op: string; commands: number }[]> {
  const trips: { op: string; commands: number }[] = [];
  const views = [minutes, activity, purchases];
  const batched = store({
    namespace: `test-${randomUUID()}`,
    views,
    clock: () => NOW,
    onRoundTrip: (e) => trips.push(e),
  });
  const single = store({ namespace: `test-${randomUUID()}`, views, clock: () => NOW });
  await batched.init();
  await single.init();
  const newer: LifetimeWrite[] = USERS.slice(0, 10).map((u) => ({
    view: 'activity',
    entityKey: u,
    states: { last_kind: { v: 'newer', ts: NOW, id: 'w' } },
  }));
  try {
    const key = (s: OnlineStore, [view, entity]: [string, string]) =>
      redisKey(s.namespace, view, entity);
    for (const s of [batched, single]) {
      await raw.hset(key(s, KEYS[0]!), STALE, '{"n_1d":1}');
      await s.mergeLifetime(newer);
    }
    trips.length = 0;
    await batched.writeTilesMergeLifetime(tiles(1), lifetimes(1));
    const calls = [...trips];
    for (const g of byKey(tiles(1))) await single.writeTiles(g);
    for (const l of lifetimes(1)) await single.mergeLifetime([l]);

    const snapshot = (s: OnlineStore) => snapshotKeys(raw, s);
    const once = await snapshot(batched);
    expect(once).toEqual(await snapshot(single));
    expect(Object.keys(once[0]!.hash)).toHaveLength(1400);
    expect(once[0]!.hash[STALE]).toBeUndefined(); // pruned: the write created fields
    expect(JSON.parse(once[1]!.hash['l:last_kind']!)).toMatchObject({ v: 'newer' }); // user-0
    expect(JSON.parse(once[2 * 15 + 1]!.hash['l:last_kind']!)).toMatchObject({ v: 'k1' });
    expect(once[2 * 15 + 1]!.hash['l:last_ts']).toBeUndefined(); // a null state: no field
    expect(once.every((k) => k.expireAt > NOW)).toBe(true);

    await batched.writeTilesMergeLifetime(tiles(1), lifetimes(1));
    expect(await snapshot(batched)).toEqual(once);
    return calls;
  } finally {
    await batched.teardown();
    await single.teardown();
    await batched.close();
    await single.close();
  }
}

/**
 * Redis and Redis Cluster: a merge batch spanning many keys (several per `lua/cas-fields.lua`
 * call, several calls, on a cluster several slots), some of whose keys a concurrent writer
 * changes between the merge's read and its compare-and-set, stores exactly the hashes and
 * expiries one-key merges store after that writer: the conflicting keys are re-read and
 * merged again (no update lost), the others are written by the first calls.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type { LifetimeWrite, TileWrite } from '../../aggregation/tiles.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../core/duration.ts';
import { lifetimeField, tileField } from '../../online/field-names.ts';
import type { OnlineStore, OnlineStoreOptions } from '../../online/online-store.ts';
import type { RedisTopology } from '../../online/redis/redis-client.ts';
import { redisKey } from '../../online/redis/redis-keys.ts';
import { RedisOnlineStore } from '../../online/redis/redis-online-store.ts';
import type { RawRedis } from './overwrite-batch-case.ts';
import { activity, purchases } from './test-views.ts';

/** A minute-hop feature over a day: one entity can hold 1,441 live tiles (two segments). */
const minutes = {
  ...activity,
  name: 'minutes',
  features: [{ ...activity.features[0]!, name: 'n_1d', windowMs: 24 * HOUR_MS }],
};

const NOW = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
const MINUTE = Math.floor(NOW / MINUTE_MS);
const USERS = Array.from({ length: 600 }, (_, i) => `user-${i}`);

function tiles(n: number): TileWrite[] {
  const out: TileWrite[] = Array.from({ length: 1400 }, (_, i) => ({
    view: 'minutes',
    entityKey: 'wide',
    hopMs: MINUTE_MS,
    hop: MINUTE - i,
    states: { n_1d: n },
  }));
  USERS.forEach((u, i) => {
    out.push(
      { view: 'activity', entityKey: u, hopMs: MINUTE_MS, hop: MINUTE, states: { clicks_1h: n } },
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
        states: { orders_30d: n },
      },
    );
  });
  return out;
}

const lifetimes = (n: number): LifetimeWrite[] =>
  USERS.slice(0, 200).map((u) => ({
    view: 'activity',
    entityKey: u,
    states: { last_kind: { v: `k${n}`, ts: NOW - 1000 + n, id: 'e1' }, last_ts: null },
  }));

/** Every key the merges touch, as `[view, entity key]`. */
const KEYS: [string, string][] = [
  ['minutes', 'wide'],
  ...USERS.flatMap((u): [string, string][] => [
    ['activity', u],
    ['purchases', u],
  ]),
];

/** A tile of `minutes` long past its retention, seeded before the merges (pruned by them). */
const STALE = tileField(MINUTE_MS, MINUTE - 3 * 24 * 60);

/** The concurrent writer's changes to fields a merge also merges into. */
type Conflict = { key: [string, string]; field: string; value: string };

/** During the second tile merge: a tile of 20 users, one tile of the wide key's first segment. */
const TILE_CONFLICTS: Conflict[] = [
  ...USERS.slice(0, 20).map((u): Conflict => ({
    key: ['activity', u],
    field: tileField(MINUTE_MS, MINUTE),
    value: '{"clicks_1h":40}',
  })),
  { key: ['minutes', 'wide'], field: tileField(MINUTE_MS, MINUTE), value: '{"n_1d":40}' },
];

/** During the second lifetime merge: the lifetime state of 10 users, newer than the merge's. */
const LIFETIME_CONFLICTS: Conflict[] = USERS.slice(0, 10).map((u) => ({
  key: ['activity', u],
  field: lifetimeField('last_kind'),
  value: JSON.stringify({ v: 'writer', ts: NOW, id: 'w' }),
}));

/** Per merge the writer met: its attempts, each the `merge-cas` round trips' commands. */
export interface MergeBatchAttempts {
  tiles: number[][];
  lifetime: number[][];
}

/**
 * Merges {@link tiles}(1) then (2), and {@link lifetimes}(1) then (2), into one namespace as one
 * batch each, a concurrent writer's changes landing between the second merges' read and their
 * compare-and-set calls (every pipeline of those calls waits for the writer); and into another
 * namespace one (view, entity) group per call, the writer's changes before the second merges.
 * Checks the hashes and expiries agree key by key, and that no update was lost. Returns the
 * attempts of the two merges the writer met, for the caller to check the calls.
 */
export async function mergeBatchCase(
  topology: () => RedisTopology,
  raw: RawRedis,
): Promise<MergeBatchAttempts> {
  const views = [minutes, activity, purchases];
  // 'read': recording, the writer armed by the first read's answer; 'armed': the next
  // pipelines (the merge's compare-and-set calls) wait for it; 'done': recording only.
  let phase: 'off' | 'read' | 'armed' | 'done' = 'off';
  let conflicts: Conflict[] = [];
  let writer: Promise<void> | null = null;
  let attempts: number[][] = [];
  let lastOp = '';
  const top = topology();
  const pipeline = top.client.pipeline.bind(top.client);
  top.client.pipeline = () => {
    const p = pipeline();
    if (phase !== 'armed') return p;
    writer ??= (async () => {
      for (const c of conflicts) await raw.hset(key(batched, c.key), c.field, c.value);
    })();
    const before = writer;
    const exec = p.exec.bind(p);
    p.exec = async () => {
      await before;
      return exec();
    };
    return p;
  };
  const options = (): OnlineStoreOptions => ({
    namespace: `test-${randomUUID()}`,
    views,
    clock: () => NOW,
  });
  const batched = new RedisOnlineStore(top, {
    ...options(),
    onRoundTrip: (e) => {
      if (phase === 'off') return;
      // One attempt: its reads (one trip per master on a cluster), then its CAS calls; a
      // blind try (no read: every field expected absent) is CAS calls without reads.
      if (e.op === 'merge-read' && lastOp !== 'merge-read') attempts.push([]);
      if (e.op === 'merge-cas' && lastOp !== 'merge-read' && lastOp !== 'merge-cas')
        attempts.push([]);
      if (e.op === 'merge-read' && phase === 'read') phase = 'armed';
      if (e.op === 'merge-cas') {
        attempts.at(-1)!.push(e.commands);
        if (phase === 'armed') phase = 'done';
      }
      lastOp = e.op;
    },
  });
  const meetWriter = async (list: Conflict[], merge: () => Promise<void>): Promise<number[][]> => {
    conflicts = list;
    writer = null;
    attempts = [];
    lastOp = '';
    phase = 'read';
    await merge();
    phase = 'off';
    expect(writer).not.toBeNull();
    return attempts;
  };
  const single = new RedisOnlineStore(topology(), options());
  await batched.init();
  await single.init();
  const key = (s: OnlineStore, [view, entity]: [string, string]) =>
    redisKey(s.namespace, view, entity);
  try {
    for (const s of [batched, single]) await raw.hset(key(s, KEYS[0]!), STALE, '{"n_1d":1}');
    const groups = (ts: TileWrite[]) => {
      const out = new Map<string, TileWrite[]>();
      for (const t of ts) {
        const id = `${t.view}\u0000${t.entityKey}`;
        out.set(id, [...(out.get(id) ?? []), t]);
      }
      return [...out.values()];
    };

    await batched.mergeTiles(tiles(1));
    const tileAttempts = await meetWriter(TILE_CONFLICTS, () => batched.mergeTiles(tiles(2)));
    await batched.mergeLifetime(lifetimes(1));
    const lifetimeAttempts = await meetWriter(LIFETIME_CONFLICTS, () =>
      batched.mergeLifetime(lifetimes(2)),
    );

    const write = (list: Conflict[]) =>
      Promise.all(list.map((c) => raw.hset(key(single, c.key), c.field, c.value)));
    // One call per (view, entity) group; the groups of one step touch distinct keys.
    await Promise.all(groups(tiles(1)).map((g) => single.mergeTiles(g)));
    await write(TILE_CONFLICTS);
    await Promise.all(groups(tiles(2)).map((g) => single.mergeTiles(g)));
    await Promise.all(lifetimes(1).map((l) => single.mergeLifetime([l])));
    await write(LIFETIME_CONFLICTS);
    await Promise.all(lifetimes(2).map((l) => single.mergeLifetime([l])));

    const snapshot = async (s: OnlineStore) =>
      Promise.all(
        KEYS.map(async (k) => ({
          hash: await raw.hgetall(key(s, k)),
          expireAt: await raw.pexpiretime(key(s, k)),
        })),
      );
    const merged = await snapshot(batched);
    expect(merged).toEqual(await snapshot(single));
    const wide = merged[0]!.hash;
    expect(Object.keys(wide)).toHaveLength(1400);
    expect(wide[STALE]).toBeUndefined(); // pruned: the first merge created fields
    // No update lost: the writer's value plus the merge's delta where they met, else 1 + 2.
    expect(wide[tileField(MINUTE_MS, MINUTE)]).toBe('{"n_1d":42}');
    expect(wide[tileField(MINUTE_MS, MINUTE - 1)]).toBe('{"n_1d":3}');
    const tile = tileField(MINUTE_MS, MINUTE);
    expect(merged[1]!.hash[tile]).toBe('{"clicks_1h":42}'); // user-0: the writer's
    expect(merged[2 * 30 + 1]!.hash[tile]).toBe('{"clicks_1h":3}'); // user-30: not touched
    expect(JSON.parse(merged[1]!.hash[lifetimeField('last_kind')]!)).toMatchObject({
      v: 'writer',
    });
    expect(JSON.parse(merged[2 * 15 + 1]!.hash[lifetimeField('last_kind')]!)).toMatchObject({
      v: 'k2',
    });
    expect(merged.every((k) => k.expireAt > NOW)).toBe(true);
    // Each second merge first tried blind (the first merges found their fields absent), which
    // every key failed (their fields exist); then a read attempt, which the writer met; then
    // the writer's keys were retried, in a third attempt.
    expect(tileAttempts).toHaveLength(3);
    expect(lifetimeAttempts).toHaveLength(3);
    return { tiles: tileAttempts, lifetime: lifetimeAttempts };
  } finally {
    await batched.teardown();
    await single.teardown();
    await batched.close();
    await single.close();
  }
}

/**
 * The one conformance suite every online store passes (SQLite, Redis, Redis Cluster). Each
 * test gets stores on a fresh random namespace and tears it down afterwards.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { armCrash } from '../../config/test-crash.ts';
import {
  aggregator,
  bruteForceWindow,
  buildTiles,
  floatsEqual,
  hopIndex,
  tileExpiresAt,
  type AggregationEvent,
  type AggregationKind,
} from '../../aggregation/index.ts';
import { encodeEntityKey } from '../../aggregation/tiles.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../core/duration.ts';
import type { LifetimeWrite, TileWrite } from '../../aggregation/tiles.ts';
import type { OnlineStore, OnlineStoreOptions } from '../../online/online-store.ts';
import { maxLiveFields, viewWritePlan } from '../../online/view-catalog.ts';
import { activity, interest, purchases, TEST_VIEWS, TTL_MS } from './test-views.ts';
import { sequenceCase, sequences } from './sequence-cases.ts';
import { loadRepository } from '../../definitions/load.ts';
import { servingView } from '../../definitions/batch/serving-view.ts';
import { snapshotWrites } from '../../materialize/materialize-batch.ts';

export type StoreFactory = (options: OnlineStoreOptions) => OnlineStore;

// Aligned to the hour, one to two hours ahead of the wall clock. Every store gets the fixed
// clock `() => NOW` (prunes and expiry decisions), and the wall clock (`Date`) is pinned to the
// last 30 s of NOW's hour — when a store pruning by `Date.now` would drop the minute tiles the
// tests write just before NOW. Redis' own key expiry (PEXPIREAT, real server time) stays far
// behind everything written.
const NOW = Math.floor(Date.now() / HOUR_MS) * HOUR_MS + 2 * HOUR_MS;
const WALL_CLOCK = NOW + HOUR_MS - 30_000;
const M = MINUTE_MS;
const minute = (ts: number): number => Math.floor(ts / M);
const hour = (ts: number): number => Math.floor(ts / HOUR_MS);

const mTile = (entityKey: string, ts: number, states: Record<string, unknown>): TileWrite => ({
  view: 'activity',
  entityKey,
  hopMs: M,
  hop: minute(ts),
  states,
});
const hTile = (entityKey: string, ts: number, states: Record<string, unknown>): TileWrite => ({
  view: 'activity',
  entityKey,
  hopMs: HOUR_MS,
  hop: hour(ts),
  states,
});
const life = (entityKey: string, kind: string, ts: number, id = `e-${ts}`): LifetimeWrite => ({
  view: 'activity',
  entityKey,
  states: { last_kind: { v: kind, ts, id }, last_ts: { v: ts, ts, id } },
});

export function onlineStoreConformance(name: string, factory: StoreFactory): void {
  describe(`online store conformance: ${name}`, () => {
    const opened: OnlineStore[] = [];
    const open = async (
      namespace = `test-${randomUUID()}`,
      extra: Partial<OnlineStoreOptions> = {},
    ): Promise<OnlineStore> => {
      const s = factory({ namespace, views: TEST_VIEWS, clock: () => NOW, ...extra });
      await s.init();
      opened.push(s);
      return s;
    };
    beforeEach(() => {
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(WALL_CLOCK);
    });
    afterEach(async () => {
      vi.useRealTimers();
      for (const s of opened.splice(0)) {
        await s.teardown();
        await s.close();
      }
    });

    const read = async (s: OnlineStore, keys: string[], t: number, features?: string[]) =>
      (
        await s.readFeatures({
          view: activity,
          entityKeys: keys,
          t,
          ...(features ? { features } : {}),
        })
      ).rows;
    const values = async (s: OnlineStore, key: string, t: number, features: string[]) =>
      (await read(s, [key], t, features))[0]!.map((v) => v.value);

    it('answers ping and reports capabilities', async () => {
      const s = await open();
      await s.ping();
      expect(s.capabilities.atomicMerge).toBe(true);
      expect(['sqlite', 'redis', 'redis-cluster']).toContain(s.capabilities.kind);
    });

    it('overwrites tiles: writing the same batch twice equals writing it once', async () => {
      const s = await open();
      const tiles = [
        mTile('u1', NOW - 2 * M, { clicks_1h: 3, clicks_5m: 3, avg_1h: { sum: 30, count: 3 } }),
        hTile('u1', NOW - 2 * M, { spend_7d: 12.5, top_cat_1d: { books: 2 }, max_1d: 9 }),
      ];
      await s.writeTiles(tiles);
      await s.writeTiles(tiles);
      expect(
        await values(s, 'u1', NOW, [
          'clicks_1h',
          'clicks_5m',
          'avg_1h',
          'spend_7d',
          'top_cat_1d',
          'max_1d',
        ]),
      ).toEqual([3, 3, 10, 12.5, 'books', 9]);
      await s.writeTiles([
        mTile('u1', NOW - 2 * M, { clicks_1h: 5, clicks_5m: 5, avg_1h: { sum: 5, count: 1 } }),
      ]);
      expect(await values(s, 'u1', NOW, ['clicks_1h', 'avg_1h'])).toEqual([5, 5]);
    });

    it('merges partial states (stream path) with the aggregation library', async () => {
      const s = await open();
      await s.mergeTiles([mTile('u1', NOW, { clicks_1h: 1, avg_1h: { sum: 10, count: 1 } })]);
      await s.mergeTiles([
        mTile('u1', NOW, { clicks_1h: 2, avg_1h: { sum: 20, count: 1 } }),
        mTile('u1', NOW, { clicks_1h: 1 }),
      ]);
      await s.mergeTiles([
        hTile('u1', NOW, { top_cat_1d: { toys: 1, books: 1 } }),
        hTile('u1', NOW, { top_cat_1d: { books: 1 } }),
      ]);
      expect(await values(s, 'u1', NOW + 1000, ['clicks_1h', 'avg_1h', 'top_cat_1d'])).toEqual([
        4,
        15,
        'books',
      ]);
    });

    it("never mutates the caller's states, also when a batch writes one field twice", async () => {
      const s = await open();
      await s.mergeTiles([mTile('u1', NOW, { avg_1h: { sum: 5, count: 1 } })]);
      const tiles = [
        mTile('u1', NOW, { clicks_1h: 2, avg_1h: { sum: 20, count: 1 } }),
        mTile('u1', NOW, { avg_1h: { sum: 10, count: 2 } }),
        hTile('u1', NOW, { top_cat_1d: { toys: 1 } }),
        hTile('u1', NOW, { top_cat_1d: { toys: 2, books: 1 } }),
      ];
      const lifetime = [life('u1', 'click', NOW - 5), life('u1', 'view', NOW - 9)];
      const before = JSON.stringify({ tiles, lifetime });
      await s.mergeTiles(tiles);
      await s.mergeLifetime(lifetime);
      expect(JSON.stringify({ tiles, lifetime })).toBe(before);
      expect(await values(s, 'u1', NOW + 1000, ['clicks_1h', 'avg_1h', 'top_cat_1d'])).toEqual([
        2,
        35 / 4,
        'toys',
      ]);
    });

    it('merges lifetime states: the newer (ts, then id) wins, an older one is ignored', async () => {
      const s = await open();
      await s.mergeLifetime([life('u1', 'click', NOW - 10)]);
      await s.mergeLifetime([life('u1', 'old', NOW - 20)]);
      expect(await values(s, 'u1', NOW, ['last_kind', 'last_ts'])).toEqual(['click', NOW - 10]);
      await s.mergeLifetime([
        life('u1', 'tie-a', NOW - 10, 'e-a'),
        life('u1', 'tie-z', NOW - 10, 'e-z'),
      ]);
      expect(await values(s, 'u1', NOW, ['last_kind'])).toEqual(['tie-z']);
      await s.writeLifetime([life('u1', 'reset', NOW - 50)]);
      expect(await values(s, 'u1', NOW, ['last_kind'])).toEqual(['reset']);
    });

    it('writeTilesMergeLifetime stores what writeTiles then mergeLifetime store', async () => {
      const [a, b] = [await open(), await open()];
      for (const s of [a, b]) {
        await s.mergeTiles([mTile('u1', NOW - 2 * M, { clicks_1h: 7, clicks_5m: 7 })]);
        await s.mergeLifetime([life('u1', 'newer', NOW - 5), life('u2', 'old', NOW - 500)]);
      }
      const tiles = [
        mTile('u1', NOW - 2 * M, { clicks_1h: 3, clicks_5m: 3, avg_1h: { sum: 30, count: 3 } }),
        hTile('u1', NOW - 2 * M, { spend_7d: 12.5, top_cat_1d: { books: 2 }, max_1d: 9 }),
        mTile('u3', NOW - 3 * M, { clicks_1h: 2, clicks_5m: 2 }),
      ];
      const lifetime = [
        life('u1', 'older', NOW - 50),
        life('u2', 'new', NOW - 10),
        life('u4', 'only', NOW - 20),
      ];
      await a.writeTilesMergeLifetime(tiles, lifetime);
      await a.writeTilesMergeLifetime(tiles, lifetime); // idempotent
      await b.writeTiles(tiles);
      await b.mergeLifetime(lifetime);
      const keys = ['u1', 'u2', 'u3', 'u4'];
      const features = ['clicks_1h', 'clicks_5m', 'avg_1h', 'spend_7d', 'last_kind', 'last_ts'];
      const got = await read(a, keys, NOW, features);
      expect(got).toEqual(await read(b, keys, NOW, features));
      expect(got.map((row) => row.map((v) => v.value))).toEqual([
        [3, 3, 10, 12.5, 'newer', NOW - 5],
        [0, 0, null, 0, 'new', NOW - 10],
        [2, 2, null, 0, null, null],
        [0, 0, null, 0, 'only', NOW - 20],
      ]);
      for (const k of keys)
        expect(await a.describeEntity('activity', k)).toEqual(
          await b.describeEntity('activity', k),
        );
      // A field written twice in one batch: the later tile wins, the lifetime states merge
      // (the newer kept), as writeTiles and mergeLifetime of the batch.
      const twice = [
        mTile('u6', NOW - M, { clicks_1h: 1 }),
        mTile('u6', NOW - M, { clicks_1h: 5 }),
      ];
      const lives = [life('u6', 'newer', NOW - 10), life('u6', 'older', NOW - 90)];
      await a.writeTilesMergeLifetime(twice, lives);
      await b.writeTiles(twice);
      await b.mergeLifetime(lives);
      expect(await values(a, 'u6', NOW, ['clicks_1h', 'last_kind', 'last_ts'])).toEqual([
        5,
        'newer',
        NOW - 10,
      ]);
      expect(await a.describeEntity('activity', 'u6')).toEqual(
        await b.describeEntity('activity', 'u6'),
      );
      // Tiles only, and lifetime states only.
      await a.writeTilesMergeLifetime([mTile('u5', NOW - M, { clicks_1h: 4 })], []);
      await a.writeTilesMergeLifetime([], [life('u5', 'late', NOW - 30)]);
      expect(await values(a, 'u5', NOW, ['clicks_1h', 'last_kind'])).toEqual([4, 'late']);
    });

    it('concurrent merges from several clients add up exactly', async () => {
      const ns = `test-${randomUUID()}`;
      const clients = await Promise.all([1, 2, 3, 4].map(() => open(ns)));
      const perClient = 25;
      await Promise.all(
        clients.map(async (c, ci) => {
          for (let i = 0; i < perClient; i++) {
            await c.mergeTiles([
              mTile('hot', NOW, { clicks_1h: 1, avg_1h: { sum: ci, count: 1 } }),
              mTile(`u-${i % 3}`, NOW - M, { clicks_1h: 1 }),
              hTile('hot', NOW, { top_cat_1d: { [`c${ci}`]: 1 } }),
            ]);
          }
        }),
      );
      const rows = await read(clients[0]!, ['hot', 'u-0', 'u-1', 'u-2'], NOW, [
        'clicks_1h',
        'avg_1h',
        'top_cat_1d',
      ]);
      expect(rows[0]!.map((v) => v.value)).toEqual([100, 1.5, 'c0']);
      // Per key, not just in total: i % 3 gives u-0 9 merges per client, u-1 and u-2 8 each.
      expect(rows.slice(1).map((r) => r[0]!.value)).toEqual([36, 32, 32]);
    });

    it('slides the window after the last write: old hops drop out, an empty window counts 0', async () => {
      const s = await open();
      const last = NOW + 30 * M;
      await s.writeTiles([
        mTile('u1', last - 10 * M, { clicks_1h: 2, clicks_5m: 2, avg_1h: { sum: 4, count: 2 } }),
        mTile('u1', last, { clicks_1h: 1, clicks_5m: 1, avg_1h: { sum: 7, count: 1 } }),
      ]);
      expect(await values(s, 'u1', last, ['clicks_1h', 'clicks_5m', 'avg_1h'])).toEqual([
        3,
        1,
        11 / 3,
      ]);
      expect(await values(s, 'u1', last + 4 * M, ['clicks_1h', 'clicks_5m'])).toEqual([3, 1]);
      expect(await values(s, 'u1', last + 5 * M, ['clicks_1h', 'clicks_5m'])).toEqual([3, 0]);
      expect(await values(s, 'u1', last + 50 * M, ['clicks_1h'])).toEqual([1]);
      const empty = (await read(s, ['u1'], last + 2 * HOUR_MS, ['clicks_1h', 'avg_1h']))[0]!;
      expect(empty).toEqual([
        { value: 0, status: 'PRESENT', eventTs: null },
        { value: null, status: 'NULL_VALUE', eventTs: null },
      ]);
    });

    it('respects hop boundaries: hop k counts from k*H through (k + W/H)*H - 1', async () => {
      const s = await open();
      const k = minute(NOW) + 7;
      await s.writeTiles([
        {
          view: 'activity',
          entityKey: 'u1',
          hopMs: M,
          hop: k,
          states: { clicks_1h: 1, clicks_5m: 1 },
        },
      ]);
      expect(await values(s, 'u1', k * M - 1, ['clicks_1h', 'clicks_5m'])).toEqual([0, 0]);
      expect(await values(s, 'u1', k * M, ['clicks_1h', 'clicks_5m'])).toEqual([1, 1]);
      expect(await values(s, 'u1', (k + 5) * M - 1, ['clicks_5m'])).toEqual([1]);
      expect(await values(s, 'u1', (k + 5) * M, ['clicks_5m'])).toEqual([0]);
      expect(await values(s, 'u1', (k + 60) * M - 1, ['clicks_1h'])).toEqual([1]);
      expect(await values(s, 'u1', (k + 60) * M, ['clicks_1h'])).toEqual([0]);
      const [row] = await read(s, ['u1'], k * M + 30_000, ['clicks_1h']);
      expect(row![0]).toEqual({ value: 1, status: 'PRESENT', eventTs: k * M });
    });

    it('lifetime features: PRESENT up to TTL, OUTSIDE_MAX_AGE at TTL + 1 ms, NULL_VALUE before the event', async () => {
      const s = await open();
      const ts = NOW - 5 * M;
      await s.writeLifetime([life('u1', 'click', ts)]);
      const at = async (t: number) => (await read(s, ['u1'], t, ['last_kind']))[0]![0];
      expect(await at(ts + TTL_MS)).toEqual({ value: 'click', status: 'PRESENT', eventTs: ts });
      expect(await at(ts + TTL_MS + 1)).toEqual({
        value: null,
        status: 'OUTSIDE_MAX_AGE',
        eventTs: ts,
      });
      expect(await at(ts - 1)).toEqual({ value: null, status: 'NULL_VALUE', eventTs: null });
      await s.writeLifetime([{ view: 'activity', entityKey: 'u2', states: { last_kind: null } }]);
      expect((await read(s, ['u2'], NOW, ['last_kind', 'last_ts']))[0]).toEqual([
        { value: null, status: 'NULL_VALUE', eventTs: null },
        { value: null, status: 'NULL_VALUE', eventTs: null },
      ]);
    });

    it('batch views: a snapshot at D is served from D to D + every − 1 ms only', async () => {
      const repo = await loadRepository('examples/ecommerce/features');
      const view = servingView(repo.batchViews.get('user_segments')!);
      const s = await open(undefined, { views: [...TEST_VIEWS, view] });
      const D = Math.floor(NOW / DAY_MS) * DAY_MS;
      const row = (user: string, segment: string | null) => ({
        key: [user],
        values: { recency_days: 3, frequency_30d: 2, monetary_30d: 150.5, segment },
      });
      await s.writeLifetime(
        snapshotWrites('user_segments', D, [row('u1', 'loyal'), row('u2', null)]),
      );
      const at = async (user: string, t: number) =>
        (
          await s.readFeatures({
            view,
            entityKeys: [user],
            t,
            features: ['segment', 'monetary_30d'],
          })
        ).rows[0];
      for (const t of [D, D + DAY_MS - 1])
        expect(await at('u1', t)).toEqual([
          { value: 'loyal', status: 'PRESENT', eventTs: D },
          { value: 150.5, status: 'PRESENT', eventTs: D },
        ]);
      // Before D an older snapshot applies; from D + 1d a newer one: this one is not served.
      expect((await at('u1', D - 1))![0]).toEqual({
        value: null,
        status: 'NULL_VALUE',
        eventTs: null,
      });
      expect((await at('u1', D + DAY_MS))![0]).toEqual({
        value: null,
        status: 'OUTSIDE_MAX_AGE',
        eventTs: D,
      });
      // A null feature of the snapshot reads null; the entity's other features are served.
      expect(await at('u2', D)).toEqual([
        { value: null, status: 'NULL_VALUE', eventTs: null },
        { value: 150.5, status: 'PRESENT', eventTs: D },
      ]);
      expect((await at('nobody', D))![0]!.status).toBe('NOT_FOUND');
    });

    // Expiry is by the store clock (docs/online-store-format.md): a field expired at the clock's
    // now is gone for a read at any t, whether or not the store has deleted it yet.
    it('expiry by the store clock: a tile expired at now is not read at a past t (not yet pruned)', async () => {
      let now = NOW;
      const s = await open(undefined, { clock: () => now });
      // Redis prunes on a write adding a field, SQLite purges in the background: neither has yet.
      const k = minute(NOW - 30 * M);
      await s.writeTiles([
        mTile('u3', NOW - 30 * M, { clicks_1h: 1 }),
        mTile('u3', NOW, { clicks_1h: 2 }),
      ]);
      const before = NOW - 10 * M;
      expect(await values(s, 'u3', before, ['clicks_1h'])).toEqual([1]);
      now = tileExpiresAt(k, HOUR_MS, M);
      expect(await read(s, ['u3'], before, ['clicks_1h'])).toEqual([
        [{ value: 0, status: 'PRESENT', eventTs: null }],
      ]);
      expect(await values(s, 'u3', now, ['clicks_1h'])).toEqual([2]);
    });

    it('expiry by the store clock: a lifetime state past its TTL at now reads as never set, at any t', async () => {
      let now = NOW;
      const s = await open(undefined, { clock: () => now });
      // Expiry ts + TTL + 1; the entity is kept by a newer state.
      const ts = NOW - 5 * M;
      await s.writeLifetime([
        {
          view: 'activity',
          entityKey: 'u4',
          states: {
            last_kind: { v: 'click', ts, id: 'a' },
            last_ts: { v: ts + DAY_MS / 2, ts: ts + DAY_MS / 2, id: 'b' },
          },
        },
      ]);
      expect(await values(s, 'u4', ts + 1, ['last_kind'])).toEqual(['click']);
      now = ts + TTL_MS + 1;
      for (const t of [ts + 1, now])
        expect(await read(s, ['u4'], t, ['last_kind', 'last_ts'])).toEqual([
          [
            { value: null, status: 'NULL_VALUE', eventTs: null },
            {
              value: t >= ts + DAY_MS / 2 ? ts + DAY_MS / 2 : null,
              status: t >= ts + DAY_MS / 2 ? 'PRESENT' : 'NULL_VALUE',
              eventTs: t >= ts + DAY_MS / 2 ? ts + DAY_MS / 2 : null,
            },
          ],
        ]);
    });

    it('expiry by the store clock: an entity whose every field has expired is NOT_FOUND at a past t', async () => {
      // Redis has dropped its key (PEXPIREAT, the server's clock), SQLite holds its rows until a
      // purge: yesterday's batch snapshot read after midnight at a time of yesterday (found by
      // test/materialize/watermark-race.redis.test.ts), a lifetime state within its TTL at t.
      const real = vi.getRealSystemTime();
      const repo = await loadRepository('examples/ecommerce/features');
      const view = servingView(repo.batchViews.get('user_segments')!);
      const r = await open(undefined, { views: [...TEST_VIEWS, view], clock: () => real });
      const D = Math.floor(real / DAY_MS) * DAY_MS - DAY_MS;
      const old = real - TTL_MS - 60_000;
      await r.writeLifetime([
        ...snapshotWrites('user_segments', D, [
          {
            key: ['u5'],
            values: { recency_days: 3, frequency_30d: 2, monetary_30d: 11, segment: 'loyal' },
          },
        ]),
        life('u6', 'click', old),
      ]);
      const [segments] = await r.readMany([
        { view, entityKeys: ['u5'], t: D + HOUR_MS, features: ['monetary_30d'] },
      ]);
      expect(segments!.rows).toEqual([[{ value: null, status: 'NOT_FOUND', eventTs: null }]]);
      expect(await read(r, ['u6'], old + 1, ['last_kind'])).toEqual([
        [{ value: null, status: 'NOT_FOUND', eventTs: null }],
      ]);
    });

    it('NOT_FOUND for entities without data; mixed batches keep request order and duplicates', async () => {
      const s = await open();
      await s.writeTiles([mTile('u1', NOW, { clicks_1h: 2 })]);
      await s.writeLifetime([life('u3', 'search', NOW - 1)]);
      const rows = await read(s, ['nobody', 'u1', 'u3', 'u1', 'ghost'], NOW, [
        'clicks_1h',
        'last_kind',
      ]);
      expect(rows.map((r) => r.map((v) => v.status))).toEqual([
        ['NOT_FOUND', 'NOT_FOUND'],
        ['PRESENT', 'NULL_VALUE'],
        ['PRESENT', 'PRESENT'],
        ['PRESENT', 'NULL_VALUE'],
        ['NOT_FOUND', 'NOT_FOUND'],
      ]);
      // Unknown entities read the spec's empty-window values: count 0, lifetime null.
      expect(rows.map((r) => r[0]!.value)).toEqual([0, 2, 0, 2, 0]);
      expect(rows.map((r) => r[1]!.value)).toEqual([null, null, 'search', null, null]);
      expect((await s.readFeatures({ view: activity, entityKeys: [], t: NOW })).rows).toEqual([]);
    });

    describe('count_distinct and last_n (a view keyed by user and product)', () => {
      const key = encodeEntityKey(['u1', 'p:{1}']);
      const other = encodeEntityKey(['u1', 'p2']);
      // Ties at one ms broken by id (code point: '\u{1F600}' > '\uFF5E'), repeated values,
      // nulls, events in two hours; pushed in a shuffled order (late events).
      const ev = (ts: number, id: string, value: string | null): AggregationEvent => ({
        ts,
        id,
        value,
      });
      const events = [
        ev(NOW - HOUR_MS - 5 * M, 'a1', 'x'),
        ev(NOW - 50 * M, 'a2', 'y'),
        ev(NOW - 3 * M, '\uFF5E', 'z'),
        ev(NOW - 3 * M, '\u{1F600}', 'x'),
        ev(NOW - 3 * M, 'b', null),
        ev(NOW - 2 * M, 'c', 'y'),
        ev(NOW - M + 1, 'd', 'x'),
      ];
      const late = [3, 0, 6, 1, 5, 2, 4].map((i) => events[i]!);
      const readAll = async (s: OnlineStore, keys: string[], t: number) =>
        (await s.readFeatures({ view: interest, entityKeys: keys, t })).rows.map((r) =>
          r.map((v) => v.value),
        );
      const expected = (t: number) =>
        interest.features.map((f) =>
          bruteForceWindow(
            f.aggregation as AggregationKind,
            events.filter((e) => e.ts <= t),
            t,
            f.windowMs!,
            f.hopMs!,
            f,
          ),
        );
      // Reads at or after the newest event (tiles hold no event after the read time).
      const times = [NOW - M + 1, NOW, NOW + 30 * M, NOW + HOUR_MS + 10 * M, NOW + DAY_MS - 1];

      it('stream path: one merged tile per event, in any order, equals the reference', async () => {
        const s = await open();
        for (const e of late) {
          await s.mergeTiles(
            interest.features.map((f) => ({
              view: 'interest',
              entityKey: key,
              hopMs: f.hopMs!,
              hop: hopIndex(e.ts, f.hopMs!),
              states: {
                [f.name]: aggregator(f.aggregation as AggregationKind, f).add(
                  aggregator(f.aggregation as AggregationKind, f).init(),
                  e.value,
                  e.ts,
                  e.id,
                  1,
                ),
              },
            })),
          );
        }
        for (const t of times)
          expect(await readAll(s, [key], t), `t = ${t}`).toEqual([expected(t)]);
        expect(await readAll(s, [key], NOW)).toEqual([[3, ['x', 'y', 'x'], ['x', 'y']]]);
      });

      it('materialize path: written tiles equal the reference; empty windows give 0 and []', async () => {
        const s = await open();
        // One tile per (hop size, hop) holding every feature of that hop size (a write
        // replaces the whole tile).
        const byHop = new Map<string, TileWrite>();
        for (const f of interest.features)
          for (const [hop, state] of buildTiles(
            f.aggregation as AggregationKind,
            events,
            f.hopMs!,
            f,
          )) {
            const k = `${f.hopMs}:${hop}`;
            if (!byHop.has(k))
              byHop.set(k, { view: 'interest', entityKey: key, hopMs: f.hopMs!, hop, states: {} });
            byHop.get(k)!.states[f.name] = state;
          }
        const tiles = [...byHop.values()];
        await s.writeTiles(tiles);
        await s.writeTiles(tiles);
        for (const t of times)
          expect(await readAll(s, [key], t), `t = ${t}`).toEqual([expected(t)]);
        // Two days later every window is empty; another product of the same user was never seen.
        const rows = await s.readFeatures({
          view: interest,
          entityKeys: [key, other],
          t: NOW + 2 * DAY_MS,
        });
        expect(rows.rows.map((r) => r.map((v) => v.value))).toEqual([
          [0, [], []],
          [0, [], []],
        ]);
        expect(rows.rows[1]!.map((v) => v.status)).toEqual(['NOT_FOUND', 'NOT_FOUND', 'NOT_FOUND']);
      });

      it('an entity with one event, and n larger than the events', async () => {
        const s = await open();
        const one = encodeEntityKey(['u9', 'p9']);
        const f = interest.features;
        await s.mergeTiles(
          f.map((x) => ({
            view: 'interest',
            entityKey: one,
            hopMs: x.hopMs!,
            hop: hopIndex(NOW - M, x.hopMs!),
            // The documented states: count_distinct's sorted values, last_n's [ts, id, value].
            states: {
              [x.name]: x.aggregation === 'count_distinct' ? ['solo'] : [[NOW - M, 'e1', 'solo']],
            },
          })),
        );
        expect(await readAll(s, [one], NOW)).toEqual([[1, ['solo'], ['solo']]]);
      });
    });

    it('returns every feature of the view in definition order by default', async () => {
      const s = await open();
      await s.writeTiles([mTile('u1', NOW, { clicks_1h: 1 })]);
      const res = await s.readFeatures({ view: activity, entityKeys: ['u1'], t: NOW });
      expect(res.features).toEqual(activity.features.map((f) => f.name));
      expect(res.rows[0]!.map((v) => v.value)).toEqual([1, 0, null, 0, null, null, null, null]);
    });

    it('readMany reads several views × N entities', async () => {
      const s = await open();
      await s.writeTiles([
        mTile('u1', NOW, { clicks_1h: 4 }),
        {
          view: 'purchases',
          entityKey: 'u2',
          hopMs: DAY_MS,
          hop: Math.floor(NOW / DAY_MS),
          states: { orders_30d: 2 },
        },
      ]);
      await s.writeLifetime([
        {
          view: 'purchases',
          entityKey: 'u1',
          states: { last_amount: { v: 9.5, ts: NOW, id: 't1' } },
        },
      ]);
      const [a, p] = await s.readMany([
        { view: activity, features: ['clicks_1h'], entityKeys: ['u1', 'u2'], t: NOW },
        { view: purchases, entityKeys: ['u1', 'u2', 'u3'], t: NOW },
      ]);
      expect(a!.rows.map((r) => r[0]!.value)).toEqual([4, 0]);
      expect(a!.rows[1]![0]!.status).toBe('NOT_FOUND');
      expect(p!.rows.map((r) => r.map((v) => v.value))).toEqual([
        [0, 9.5],
        [2, null],
        [0, null],
      ]);
      expect(p!.rows[2]![0]!.status).toBe('NOT_FOUND');
    });

    it('readMany: a view read by two requests of overlapping keys answers each as read alone', async () => {
      const s = await open();
      await s.mergeTiles([
        {
          view: 'activity',
          entityKey: 'u1',
          hopMs: MINUTE_MS,
          hop: Math.floor(NOW / MINUTE_MS),
          states: { clicks_1h: 3 },
        },
        {
          view: 'activity',
          entityKey: 'u2',
          hopMs: MINUTE_MS,
          hop: Math.floor(NOW / MINUTE_MS) - 1,
          states: { clicks_1h: 5 },
        },
      ]);
      // Whole hashes twice (keys shared between the two), and a subset of fields.
      const reads = [
        { view: activity, entityKeys: ['u1', 'u2'], t: NOW },
        { view: activity, entityKeys: ['u3', 'u2', 'u1'], t: NOW },
        { view: activity, features: ['clicks_1h'], entityKeys: ['u2', 'u1'], t: NOW },
      ];
      const results = await s.readMany(reads);
      for (let i = 0; i < reads.length; i++)
        expect(results[i]).toEqual(await s.readFeatures(reads[i]!));
      const clicks = results[1]!.features.indexOf('clicks_1h');
      expect(results[1]!.rows.map((r) => r[clicks]!.value)).toEqual([0, 5, 3]);
      expect(results[2]!.rows.map((r) => r[0]!.value)).toEqual([5, 3]);
    });

    it('sequence features: tiles merged in any arrival order read as the reference', async () => {
      const s = await open(undefined, { views: [...TEST_VIEWS, sequences] });
      const c = sequenceCase(NOW, 40, 14);
      for (const b of c.batches) await s.mergeTiles(b);
      const keys = [...c.expected.keys(), 'nobody'];
      const res = await s.readFeatures({ view: sequences, entityKeys: keys, t: NOW });
      const none = { current_events: 0, current_duration_s: null, fast_1h: 0, changes_1h: 0 };
      keys.forEach((k, i) => {
        const want = c.expected.get(k) ?? { sessions_1h: 0, avg_session_1h_s: null, ...none };
        res.features.forEach((f, j) => {
          const got = res.rows[i]![j]!.value;
          const w = want[f] ?? null;
          if (typeof got === 'number' && typeof w === 'number')
            expect(floatsEqual(got, w), `${k} ${f}: ${got} vs ${w}`).toBe(true);
          else expect({ k, f, got }).toEqual({ k, f, got: w });
        });
      });
      expect(res.rows[keys.length - 1]![0]!.status).toBe('NOT_FOUND');
    });

    it('isolates namespaces; teardown removes only its own namespace', async () => {
      const a = await open();
      const b = await open();
      await a.writeTiles([mTile('u1', NOW, { clicks_1h: 1 })]);
      await b.writeTiles([mTile('u1', NOW, { clicks_1h: 7 })]);
      expect(await values(a, 'u1', NOW, ['clicks_1h'])).toEqual([1]);
      expect(await values(b, 'u1', NOW, ['clicks_1h'])).toEqual([7]);
      await a.teardown();
      expect((await read(a, ['u1'], NOW, ['clicks_1h']))[0]![0]!.status).toBe('NOT_FOUND');
      expect(await values(b, 'u1', NOW, ['clicks_1h'])).toEqual([7]);
      expect(await a.describeEntity('activity', 'u1')).toBeNull();
      await expect(a.teardown('*')).rejects.toMatchObject({ code: 'LARDER_CONFIG_INVALID' });
    });

    it('samples entity keys of one view (for the dashboard), at most the limit asked', async () => {
      const s = await open();
      expect(await s.sampleEntityKeys('activity', 5)).toEqual([]);
      await s.writeTiles(['u1', 'u2', 'u}3'].map((u) => mTile(u, NOW, { clicks_1h: 1 })));
      await s.writeLifetime([life('u4', 'x', NOW)]);
      expect((await s.sampleEntityKeys('activity', 10)).sort()).toEqual(['u1', 'u2', 'u4', 'u}3']);
      const two = await s.sampleEntityKeys('activity', 2);
      expect(two).toHaveLength(2);
      expect(['u1', 'u2', 'u4', 'u}3']).toEqual(expect.arrayContaining(two));
      expect(await s.sampleEntityKeys('no_such_view', 5)).toEqual([]);
    });

    it('sets an expiry on tiles: one window plus one hop after the hop (tileExpiresAt)', async () => {
      const s = await open();
      const k = minute(NOW);
      await s.writeTiles([mTile('u1', NOW, { clicks_1h: 1 }), hTile('u1', NOW, { spend_7d: 1 })]);
      const d = await s.describeEntity('activity', 'u1');
      expect(d?.fields).toEqual([`${HOUR_MS}:${hour(NOW)}`, `${M}:${k}`].sort());
      const expected = [
        tileExpiresAt(k, HOUR_MS, M),
        tileExpiresAt(hour(NOW), 7 * DAY_MS, HOUR_MS),
      ];
      expect(d?.expiresAt).toBe(Math.max(...expected));
      if (s.capabilities.perTileExpiry)
        expect([...d!.fieldExpiresAt].sort()).toEqual([...expected].sort());
      await s.writeLifetime([life('u9', 'x', NOW)]);
      expect((await s.describeEntity('activity', 'u9'))?.expiresAt).toBe(NOW + TTL_MS + 1);
    });

    it('drops stale tiles once their expiry has passed on the wall clock', async () => {
      let now = NOW;
      const s = await open(undefined, { clock: () => now });
      const k = minute(NOW);
      await s.writeTiles([mTile('u1', NOW, { clicks_1h: 1 })]);
      now = tileExpiresAt(k, HOUR_MS, M);
      await s.writeTiles([mTile('u1', now, { clicks_1h: 2 })]);
      expect((await s.describeEntity('activity', 'u1'))?.fields).toEqual([`${M}:${minute(now)}`]);
      expect(await values(s, 'u1', now, ['clicks_1h'])).toEqual([2]);
    });

    it('keeps at most the documented bound of fields per entity after a long history', async () => {
      // What `materialize --start <far in the past>` and a stream with late events send: 8 days
      // of minute and hour tiles, lifetime states, and late merges of hops every window has left.
      let now = NOW;
      const s = await open(undefined, { clock: () => now });
      const plan = viewWritePlan(activity);
      const bound = maxLiveFields(plan); // (60 + 1) + (168 + 1) + 2 lifetime
      expect(bound).toBe(232);
      const history = (end: number): TileWrite[] => {
        const tiles: TileWrite[] = [];
        for (let ts = end - 8 * DAY_MS; ts <= end; ts += M)
          tiles.push(mTile('hot', ts, { clicks_1h: 1, clicks_5m: 1 }));
        for (let ts = end - 8 * DAY_MS; ts <= end; ts += HOUR_MS)
          tiles.push(hTile('hot', ts, { spend_7d: 2 }));
        return tiles;
      };
      await s.writeTiles(history(NOW));
      await s.writeLifetime([life('hot', 'click', NOW - 5)]);
      await s.mergeTiles([mTile('hot', NOW - 3 * HOUR_MS, { clicks_1h: 1 })]);
      await s.applyStreamBatch({
        tiles: [hTile('hot', NOW - 8 * DAY_MS, { spend_7d: 1 })],
        lifetime: [],
        checkpoint: { group: 'g', topic: 'events', partition: 0, from: 0, offset: 0 },
      });
      const fields = (await s.describeEntity('activity', 'hot'))!.fields;
      expect(fields.length).toBeLessThanOrEqual(bound);
      // Exactly the tiles that can serve at NOW: hops floor(NOW/H) - W/H … floor(NOW/H).
      const kept = (H: number, W: number) =>
        Array.from({ length: W / H + 1 }, (_, i) => `${H}:${Math.floor(NOW / H) - W / H + i}`);
      expect(fields).toEqual(
        [...kept(M, HOUR_MS), ...kept(HOUR_MS, 7 * DAY_MS), 'l:last_kind', 'l:last_ts'].sort(),
      );
      // Reads are unchanged by what was left out.
      expect(await values(s, 'hot', NOW, ['clicks_1h', 'clicks_5m', 'spend_7d'])).toEqual([
        60,
        5,
        2 * 168,
      ]);
      // A day later, after more history: still within the bound (expired fields are gone, or
      // at least never read or described).
      now = NOW + DAY_MS;
      await s.writeTiles(history(now));
      await s.mergeLifetime([life('hot', 'search', now - 5)]);
      const later = (await s.describeEntity('activity', 'hot'))!;
      expect(later.fields.length).toBeLessThanOrEqual(bound);
      expect(later.fields.filter((f) => f.startsWith(`${M}:`))).toHaveLength(61);
      expect(await values(s, 'hot', now, ['clicks_1h', 'spend_7d', 'last_kind'])).toEqual([
        60,
        2 * 168,
        'search',
      ]);
    });

    it('reads only the fields a request needs, with the same values and statuses', async () => {
      const s = await open();
      await s.writeTiles([
        mTile('u1', NOW - 10 * M, { clicks_1h: 2, clicks_5m: 2 }),
        hTile('u1', NOW - 3 * HOUR_MS, { spend_7d: 4 }),
      ]);
      await s.writeLifetime([life('u2', 'click', NOW - 1)]);
      // Subsets of one hop size, of another, and lifetime only; an entity holding none of the
      // requested fields reads as empty windows (PRESENT 0 / NULL_VALUE), not NOT_FOUND.
      expect(await read(s, ['u1', 'u2', 'none'], NOW, ['clicks_5m'])).toEqual([
        [{ value: 0, status: 'PRESENT', eventTs: null }],
        [{ value: 0, status: 'PRESENT', eventTs: null }],
        [{ value: 0, status: 'NOT_FOUND', eventTs: null }],
      ]);
      expect((await read(s, ['u1'], NOW, ['spend_7d', 'clicks_1h']))[0]).toEqual([
        { value: 4, status: 'PRESENT', eventTs: (hour(NOW) - 3) * HOUR_MS },
        { value: 2, status: 'PRESENT', eventTs: (minute(NOW) - 10) * M },
      ]);
      expect(await read(s, ['u1', 'none'], NOW, [])).toEqual([[], []]);
      expect((await read(s, ['u1', 'u2'], NOW, ['last_kind', 'avg_1h'])).map((r) => r)).toEqual([
        [
          { value: null, status: 'NULL_VALUE', eventTs: null },
          { value: null, status: 'NULL_VALUE', eventTs: null },
        ],
        [
          { value: 'click', status: 'PRESENT', eventTs: NOW - 1 },
          { value: null, status: 'NULL_VALUE', eventTs: null },
        ],
      ]);
      // Stored fields between the needed ones (a tile outside the 5m window, a lifetime state
      // not asked for) change nothing: a store may read all of a view's fields in one range.
      await s.writeLifetime([life('u1', 'view', NOW - 2)]);
      expect((await read(s, ['u1'], NOW, ['spend_7d', 'clicks_5m', 'last_ts']))[0]).toEqual([
        { value: 4, status: 'PRESENT', eventTs: (hour(NOW) - 3) * HOUR_MS },
        { value: 0, status: 'PRESENT', eventTs: null },
        { value: NOW - 2, status: 'PRESENT', eventTs: NOW - 2 },
      ]);
    });

    it('rejects writes for unknown views, hops and features', async () => {
      const s = await open();
      await expect(
        s.writeTiles([{ view: 'nope', entityKey: 'u', hopMs: M, hop: 1, states: {} }]),
      ).rejects.toMatchObject({ code: 'LARDER_NOT_FOUND' });
      await expect(
        s.writeTiles([
          { view: 'activity', entityKey: 'u', hopMs: 2 * M, hop: 1, states: { clicks_1h: 1 } },
        ]),
      ).rejects.toMatchObject({ code: 'LARDER_BAD_REQUEST' });
      await expect(
        s.mergeTiles([
          { view: 'activity', entityKey: 'u', hopMs: M, hop: 1, states: { spend_7d: 1 } },
        ]),
      ).rejects.toMatchObject({ code: 'LARDER_BAD_REQUEST' });
      await expect(
        s.readFeatures({ view: activity, features: ['nope'], entityKeys: ['u'], t: NOW }),
      ).rejects.toMatchObject({ code: 'LARDER_NOT_FOUND' });
    });

    it('reads values holding newlines, quotes and empty strings exactly (replies are joined by newlines)', async () => {
      const s = await open();
      const kinds = ['a\nb', '\n', '', '"q"\r\n\\n', 'ü\u2028'];
      await s.writeLifetime(kinds.map((k, i) => life(`n${i}`, k, NOW - 1)));
      await s.writeTiles([mTile('n0', NOW - 10 * M, { clicks_1h: 3, clicks_5m: 0 })]);
      const keys = kinds.map((_, i) => `n${i}`);
      // Whole rows (every feature: whole hashes on Redis) and subsets (named fields).
      const whole = await read(s, keys, NOW);
      const subset = await read(s, keys, NOW, ['last_kind', 'clicks_1h']);
      const kindAt = activity.features.findIndex((f) => f.name === 'last_kind');
      expect(whole.map((r) => r[kindAt]!.value)).toEqual(kinds);
      expect(subset.map((r) => r[0]!.value)).toEqual(kinds);
      expect(subset.map((r) => r[1]!.value)).toEqual([3, 0, 0, 0, 0]);
    });

    it('keeps entity keys with special characters apart', async () => {
      const s = await open();
      const keys = ['a:b', '{x}', 'ü-ñ', '["u",1]', ''];
      await s.writeTiles(keys.map((e, i) => mTile(e, NOW, { clicks_1h: i + 1 })));
      expect((await read(s, keys, NOW, ['clicks_1h'])).map((r) => r[0]!.value)).toEqual([
        1, 2, 3, 4, 5,
      ]);
    });

    describe('stream checkpoints', () => {
      const ck = (partition: number, from: number, offset: number, topic = 'events') => ({
        group: 'g',
        topic,
        partition,
        from,
        offset,
      });
      const users = Array.from({ length: 40 }, (_, i) => `cu${i}`);
      const batch = (n: number) => users.map((u) => mTile(u, NOW, { clicks_1h: n }));

      it('applies a batch once: a repeated batch is a no-op', async () => {
        const s = await open();
        expect(await s.readCheckpoints('g', 'events')).toEqual([]);
        expect(
          await s.applyStreamBatch({
            tiles: batch(2),
            lifetime: [life('u1', 'click', NOW - 5)],
            checkpoint: ck(0, 0, 9),
          }),
        ).toBe('applied');
        expect(
          await s.applyStreamBatch({
            tiles: batch(2),
            lifetime: [life('u1', 'click', NOW - 5)],
            checkpoint: ck(0, 0, 9),
          }),
        ).toBe('duplicate');
        expect(
          await s.applyStreamBatch({ tiles: batch(2), lifetime: [], checkpoint: ck(0, 3, 7) }),
        ).toBe('duplicate');
        expect((await read(s, users, NOW, ['clicks_1h'])).map((r) => r[0]!.value)).toEqual(
          users.map(() => 2),
        );
        expect(await values(s, 'u1', NOW, ['last_kind'])).toEqual(['click']);
        expect(await s.readCheckpoints('g', 'events')).toEqual([
          { partition: 0, offset: 9, pending: null },
        ]);
      });

      it('keeps offsets monotonic per (group, topic, partition) and rejects overlaps', async () => {
        const s = await open();
        await s.applyStreamBatch({ tiles: batch(1), lifetime: [], checkpoint: ck(0, 0, 9) });
        expect(
          await s.applyStreamBatch({ tiles: batch(5), lifetime: [], checkpoint: ck(0, 5, 20) }),
        ).toBe('overlap');
        expect(
          await s.applyStreamBatch({ tiles: batch(1), lifetime: [], checkpoint: ck(0, 10, 19) }),
        ).toBe('applied');
        expect(
          await s.applyStreamBatch({ tiles: batch(1), lifetime: [], checkpoint: ck(1, 0, 4) }),
        ).toBe('applied');
        expect(
          await s.applyStreamBatch({
            tiles: batch(1),
            lifetime: [],
            checkpoint: ck(0, 0, 4, 'other'),
          }),
        ).toBe('applied');
        // An empty batch still moves the checkpoint (records that all went to the DLQ).
        expect(await s.applyStreamBatch({ tiles: [], lifetime: [], checkpoint: ck(1, 5, 8) })).toBe(
          'applied',
        );
        expect((await read(s, ['cu0'], NOW, ['clicks_1h']))[0]![0]!.value).toBe(4);
        expect(await s.readCheckpoints('g', 'events')).toEqual([
          { partition: 0, offset: 19, pending: null },
          { partition: 1, offset: 8, pending: null },
        ]);
        expect(await s.readCheckpoints('other-group', 'events')).toEqual([]);
      });

      it('is atomic: concurrent writers of the same batch apply it exactly once', async () => {
        const a = await open();
        const b = await open(a.namespace);
        const outcomes = await Promise.all(
          Array.from({ length: 6 }, (_, i) =>
            (i % 2 ? a : b).applyStreamBatch({
              tiles: batch(3),
              lifetime: [],
              checkpoint: ck(2, 100, 199),
            }),
          ),
        );
        // Atomic stores: one writer applies it. Per-slot stores: each slot applies it once,
        // possibly from different writers, and no writer sees an overlap.
        if (a.capabilities.streamCheckpoints === 'atomic')
          expect(outcomes.filter((o) => o === 'applied')).toHaveLength(1);
        else {
          expect(outcomes).not.toContain('overlap');
          expect(outcomes).toContain('applied');
        }
        expect(await a.readCheckpoints('g', 'events')).toEqual([
          { partition: 2, offset: 199, pending: null },
        ]);
        expect((await read(a, users, NOW, ['clicks_1h'])).map((r) => r[0]!.value)).toEqual(
          users.map(() => 3),
        );
        // Interleaved with plain merges of the same keys, nothing is lost.
        await Promise.all([
          a.applyStreamBatch({ tiles: batch(1), lifetime: [], checkpoint: ck(2, 200, 299) }),
          b.mergeTiles(batch(10)),
        ]);
        expect((await read(a, users, NOW, ['clicks_1h'])).map((r) => r[0]!.value)).toEqual(
          users.map(() => 14),
        );
      });

      it('applies a batch whose lifetime states are all null (no field to write) and moves the checkpoint', async () => {
        // A record with an entity key but none of a lifetime view's inputs (a product event
        // without price or category) folds to an all-null lifetime write.
        const s = await open();
        const empty: LifetimeWrite = {
          view: 'activity',
          entityKey: 'u-empty',
          states: { last_kind: null, last_ts: null },
        };
        expect(
          await s.applyStreamBatch({
            tiles: [mTile('u1', NOW, { clicks_1h: 1 })],
            lifetime: [empty],
            checkpoint: ck(0, 0, 4),
          }),
        ).toBe('applied');
        expect(
          await s.applyStreamBatch({ tiles: [], lifetime: [empty], checkpoint: ck(0, 5, 6) }),
        ).toBe('applied');
        await s.mergeLifetime([empty]);
        expect(await s.readCheckpoints('g', 'events')).toEqual([
          { partition: 0, offset: 6, pending: null },
        ]);
        expect(await values(s, 'u1', NOW, ['clicks_1h'])).toEqual([1]);
        expect((await read(s, ['u-empty'], NOW, ['last_kind']))[0]![0]!.status).toBe('NOT_FOUND');
        expect(await s.describeEntity('activity', 'u-empty')).toBeNull();
      });

      it('refuses a batch with an out-of-range event time before writing any of it', async () => {
        // 1e21 ms is a valid int64 in JSON, but its expiry is no safe integer: refused by
        // every store, and nothing of the batch (other entities, other slots) is written.
        const s = await open();
        await expect(
          s.applyStreamBatch({
            tiles: [mTile('u-good', NOW, { clicks_1h: 1 })],
            lifetime: [life('u-far', 'click', 1e21)],
            checkpoint: ck(0, 0, 1),
          }),
        ).rejects.toMatchObject({ code: 'LARDER_BAD_REQUEST' });
        await expect(s.mergeLifetime([life('u-far', 'click', 1e21)])).rejects.toMatchObject({
          code: 'LARDER_BAD_REQUEST',
        });
        expect(await s.describeEntity('activity', 'u-good')).toBeNull();
        expect(await s.describeEntity('activity', 'u-far')).toBeNull();
        expect(await s.readCheckpoints('g', 'events')).toEqual([]);
      });

      // A writer that stops inside applyStreamBatch (kill -9; simulated by a crash point that
      // throws). Atomic stores never reach these points (merge and checkpoint are one
      // transaction); per-slot stores leave the batch `pending`, and the next writer must
      // finish it exactly once: cut its batch at `pending`, slots that have it skip it.
      for (const point of ['after-pending-mark', 'after-slot-scripts'] as const) {
        it(`finishes a batch interrupted ${point} exactly once`, async () => {
          const s = await open();
          armCrash({ point, n: 1 }, () => {
            throw new Error(`crash at ${point}`);
          });
          let crashed = false;
          try {
            await s.applyStreamBatch({ tiles: batch(1), lifetime: [], checkpoint: ck(0, 0, 9) });
          } catch (e) {
            expect((e as Error).message).toBe(`crash at ${point}`);
            crashed = true;
          } finally {
            armCrash(null);
          }
          expect(crashed).toBe(s.capabilities.streamCheckpoints === 'per-slot');
          const after = await s.readCheckpoints('g', 'events');
          if (crashed) {
            expect(after).toEqual([{ partition: 0, offset: -1, pending: 9 }]);
            // A batch that straddles `pending` is refused; the writer cuts it there.
            expect(
              await s.applyStreamBatch({ tiles: batch(5), lifetime: [], checkpoint: ck(0, 0, 19) }),
            ).toBe('overlap');
          }
          // The same batch again (what a restarted worker sends): applied once in total.
          await s.applyStreamBatch({ tiles: batch(1), lifetime: [], checkpoint: ck(0, 0, 9) });
          expect(await s.readCheckpoints('g', 'events')).toEqual([
            { partition: 0, offset: 9, pending: null },
          ]);
          expect(
            await s.applyStreamBatch({ tiles: batch(1), lifetime: [], checkpoint: ck(0, 10, 19) }),
          ).toBe('applied');
          expect((await read(s, users, NOW, ['clicks_1h'])).map((r) => r[0]!.value)).toEqual(
            users.map(() => 2),
          );
        });
      }

      it('rejects an invalid batch without moving the checkpoint', async () => {
        const s = await open();
        await expect(
          s.applyStreamBatch({
            tiles: [
              { view: 'nope', entityKey: 'u1', hopMs: M, hop: minute(NOW), states: { x: 1 } },
            ],
            lifetime: [],
            checkpoint: ck(0, 0, 9),
          }),
        ).rejects.toThrow();
        expect(await s.readCheckpoints('g', 'events')).toEqual([]);
      });
    });

    describe('idempotent pushes', () => {
      const users = Array.from({ length: 40 }, (_, i) => `iu${i}`);
      const tiles = (n: number) => users.map((u) => mTile(u, NOW, { clicks_1h: n }));
      const write = (key: string, n: number, fingerprint = `fp${n}`) => ({
        key,
        fingerprint,
        response: `{"n":${n}}`,
        ttlMs: DAY_MS,
        tiles: tiles(n),
        lifetime: [life('iu0', 'click', NOW - 5)],
      });
      const clicks = async (s: OnlineStore) =>
        (await read(s, users, NOW, ['clicks_1h'])).map((r) => r[0]!.value);

      it('applies a key once; a repeat returns the stored fingerprint and answer', async () => {
        const s = await open();
        expect(await s.applyIdempotent(write('k1', 2))).toEqual({ status: 'applied' });
        expect(await s.applyIdempotent(write('k1', 2))).toEqual({
          status: 'duplicate',
          fingerprint: 'fp2',
          response: '{"n":2}',
        });
        // A different request under the same key writes nothing either.
        expect(await s.applyIdempotent(write('k1', 5))).toMatchObject({
          status: 'duplicate',
          fingerprint: 'fp2',
        });
        expect(await clicks(s)).toEqual(users.map(() => 2));
        expect(await values(s, 'iu0', NOW, ['last_kind'])).toEqual(['click']);
        // Another key applies; keys are per namespace; a key without writes is kept too.
        expect(await s.applyIdempotent(write('k2', 1))).toEqual({ status: 'applied' });
        expect(await clicks(s)).toEqual(users.map(() => 3));
        const other = await open();
        expect(await other.applyIdempotent(write('k1', 2))).toEqual({ status: 'applied' });
        const empty = { ...write('k3', 0), tiles: [], lifetime: [] };
        expect(await s.applyIdempotent(empty)).toEqual({ status: 'applied' });
        expect(await s.applyIdempotent(empty)).toMatchObject({ status: 'duplicate' });
      });

      it('keeps a key for its TTL on the store clock, across clients', async () => {
        let now = NOW;
        const a = await open(undefined, { clock: () => now });
        const b = await open(a.namespace, { clock: () => now });
        await a.applyIdempotent(write('k', 1));
        expect(await clicks(a)).toEqual(users.map(() => 1));
        // Tiles age out meanwhile; the key does not until its TTL has passed.
        now = NOW + DAY_MS - 1000;
        expect(await b.applyIdempotent({ ...write('k', 1), tiles: [], lifetime: [] })).toEqual({
          status: 'duplicate',
          fingerprint: 'fp1',
          response: '{"n":1}',
        });
      });

      it('is atomic: concurrent pushes with one key apply it exactly once', async () => {
        const a = await open();
        const b = await open(a.namespace);
        const outcomes = await Promise.all(
          Array.from({ length: 6 }, (_, i) => (i % 2 ? a : b).applyIdempotent(write('k', 3))),
        );
        if (a.capabilities.streamCheckpoints === 'atomic')
          expect(outcomes.filter((o) => o.status === 'applied')).toHaveLength(1);
        expect(await clicks(a)).toEqual(users.map(() => 3));
        // Interleaved with plain merges of the same keys, nothing is lost.
        await Promise.all([a.applyIdempotent(write('k2', 1)), b.mergeTiles(tiles(10))]);
        expect(await clicks(a)).toEqual(users.map(() => 14));
      });
    });
  });
}

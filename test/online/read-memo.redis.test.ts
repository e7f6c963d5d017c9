/**
 * Redis reads through the session-18 memos — the read connection's last answer per key (by its
 * bytes) and the read plan's cached row with its features as last evaluated (per window epoch
 * and lifetime case) — against what Redis holds at each read: one long-lived store reads after
 * random steps (tiles merged, a field rewritten with a value of the same length, a lifetime
 * state written, the key expired, the server killed with SIGKILL and started again, with or
 * without its data) at times in any order across hop, window and TTL edges; each answer must
 * equal a fresh read plan's evaluation of the key's fields fetched with `HGETALL` right after
 * (no cache of any kind). While the server is down a read fails with
 * `LARDER_STORE_UNAVAILABLE` (docs/errors.md), and the same store reads again once it is back.
 */
import { Redis } from 'ioredis';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOUR_MS, MINUTE_MS } from '../../core/duration.ts';
import type { TileWrite } from '../../aggregation/tiles.ts';
import { createOnlineStore } from '../../online/create-online-store.ts';
import type { OnlineStore, ReadResult } from '../../online/online-store.ts';
import { readPlan } from '../../online/read-plan.ts';
import { redisKey } from '../../online/redis/redis-keys.ts';
import { LarderError } from '../../core/errors.ts';
import { startRedisServer, type LocalRedis } from '../support/redis-server.ts';
import { activity, TEST_VIEWS, TTL_MS } from './test-views.ts';

const NOW = Math.floor(Date.now() / HOUR_MS) * HOUR_MS + 17 * MINUTE_MS + 123;
const FEATURES = ['clicks_1h', 'clicks_5m', 'spend_7d', 'last_kind'];
const USERS = ['u1', 'u2'];

type Step =
  | { kind: 'merge'; user: number; minutesAgo: number; clicks: number; spend: number }
  | { kind: 'rewrite'; user: number; digit: number }
  | { kind: 'lifetime'; user: number; at: number; letter: string }
  | { kind: 'expire'; user: number }
  | { kind: 'restart' }
  | { kind: 'read'; t: number };

const minute = Math.floor(NOW / MINUTE_MS) * MINUTE_MS;
/** Lifetime states' times, as offsets from `minute`: reads within one hop see them set or not. */
const LIFETIME_AT = [-30 * MINUTE_MS, 0, 1, 123, 200];
/** Read times: now, on and next to minute and hour edges and lifetime times and their TTL ends. */
const timeArb = fc.oneof(
  fc.constantFrom(NOW, minute, minute - 1, minute + MINUTE_MS, minute + MINUTE_MS - 1),
  fc
    .tuple(fc.constantFrom(...LIFETIME_AT), fc.constantFrom(-1, 0, 1), fc.constantFrom(0, TTL_MS))
    .map(([at, d, ttl]) => minute + at + d + ttl),
  fc.integer({ min: -70, max: 10 }).map((k) => minute + k * MINUTE_MS - (k % 2)),
  fc.integer({ min: -3, max: 3 }).map((k) => Math.floor(NOW / HOUR_MS) * HOUR_MS + k * HOUR_MS),
  fc.integer({ min: NOW - 2 * HOUR_MS, max: NOW + 2 * HOUR_MS }),
);
const user = fc.integer({ min: 0, max: USERS.length - 1 });
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('merge' as const),
      user,
      minutesAgo: fc.integer({ min: 0, max: 70 }),
      clicks: fc.integer({ min: 1, max: 3 }),
      spend: fc.constantFrom(1, 2.5, 7),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('rewrite' as const),
      user,
      digit: fc.integer({ min: 1, max: 9 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('lifetime' as const),
      user,
      at: fc.constantFrom(...LIFETIME_AT),
      letter: fc.constantFrom('a', 'b', 'é'),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('expire' as const), user }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'restart' as const }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('read' as const), t: timeArb }) },
);

describe('Redis reads through the memos equal what Redis holds at each read', () => {
  let raw: Redis;
  let server: LocalRedis;
  let store: OnlineStore;
  let run = 0;
  beforeAll(async () => {
    server = await startRedisServer({ persistent: true });
    raw = new Redis(server.url);
    raw.on('error', () => undefined); // down while the server restarts; commands wait for it
  });
  afterAll(async () => {
    raw.disconnect();
    await server.close();
  });

  /** A fresh plan (a view object of its own: no cached rows) evaluating the key's fields now. */
  async function expected(ns: string, t: number): Promise<ReadResult> {
    const view = structuredClone(activity);
    const rows = [];
    for (const u of USERS) {
      const fields = await raw.hgetall(redisKey(ns, 'activity', u));
      const pairs = Object.entries(fields).flat();
      const plan = readPlan({ view, features: FEATURES, entityKeys: USERS, t });
      rows.push(plan.evaluatePairs(t, pairs));
    }
    return { view: 'activity', features: FEATURES, rows };
  }

  /** `op` until the store takes it (each failure LARDER_STORE_UNAVAILABLE: reconnecting). */
  async function retrying<T>(op: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await op();
      } catch (e) {
        expect(e).toBeInstanceOf(LarderError);
        expect((e as LarderError).code).toBe('LARDER_STORE_UNAVAILABLE');
        if (attempt > 600) throw e; // 30 s of reconnecting: a bound, not a timing
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  async function apply(ns: string, step: Step, keep: boolean): Promise<void> {
    const key = (u: number): string => redisKey(ns, 'activity', USERS[u]!);
    switch (step.kind) {
      case 'merge': {
        const at = NOW - step.minutesAgo * MINUTE_MS;
        const tiles: TileWrite[] = [
          {
            view: 'activity',
            entityKey: USERS[step.user]!,
            hopMs: MINUTE_MS,
            hop: Math.floor(at / MINUTE_MS),
            states: { clicks_1h: step.clicks, clicks_5m: step.clicks },
          },
          {
            view: 'activity',
            entityKey: USERS[step.user]!,
            hopMs: HOUR_MS,
            hop: Math.floor(at / HOUR_MS),
            states: { spend_7d: step.spend },
          },
        ];
        await retrying(() => store.mergeTiles(tiles));
        return;
      }
      case 'rewrite': {
        // Every minute tile's count rewritten to one digit: a reply of the same length.
        const fields = await raw.hgetall(key(step.user));
        for (const [f, v] of Object.entries(fields))
          if (f.startsWith(`${MINUTE_MS}:`))
            await raw.hset(key(step.user), f, v.replace(/:\d+/g, `:${step.digit}`));
        return;
      }
      case 'lifetime':
        await retrying(() =>
          store.writeLifetime([
            {
              view: 'activity',
              entityKey: USERS[step.user]!,
              states: {
                last_kind: { v: step.letter, ts: minute + step.at, id: 'e' },
              },
            },
          ]),
        );
        return;
      case 'expire':
        await raw.pexpire(key(step.user), 1);
        while ((await raw.exists(key(step.user))) === 1) await new Promise((r) => setTimeout(r, 5));
        return;
      case 'restart': {
        await server.stop('SIGKILL');
        // Down: a read fails at once with the documented error.
        await expect(
          store.readMany([{ view: activity, features: FEATURES, entityKeys: USERS, t: NOW }]),
        ).rejects.toMatchObject({ code: 'LARDER_STORE_UNAVAILABLE' });
        await server.start();
        if (!keep) {
          await raw.del(...USERS.map((_, u) => key(u)));
        }
        return;
      }
      case 'read': {
        // At t, then 1 ms either side (one hop, mostly: a lifetime state's time or TTL end
        // between them changes its case alone).
        for (const t of [step.t, step.t + 1, step.t - 1]) {
          const [got] = await retrying(() =>
            store.readMany([{ view: activity, features: FEATURES, entityKeys: USERS, t }]),
          );
          expect(got!.rows, `read at ${t - NOW} ms from now`).toEqual((await expected(ns, t)).rows);
        }
        return;
      }
    }
  }

  it('after merges, same-length rewrites, lifetime writes, expiry and SIGKILL restarts, at times in any order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(stepArb, { minLength: 4, maxLength: 24 }),
        fc.boolean(),
        async (steps, keep) => {
          const ns = `memo-${run++}`;
          store = createOnlineStore(
            { type: 'redis', url: server.url, maxRetriesPerRequest: 1 },
            { namespace: ns, views: TEST_VIEWS, clock: () => NOW },
          );
          await store.init();
          try {
            for (const step of steps) await apply(ns, step, keep);
            // And each read twice more at its time, in reverse order (the memos warm).
            const times = steps.flatMap((s) => (s.kind === 'read' ? [s.t] : [])).reverse();
            for (const t of times) await apply(ns, { kind: 'read', t }, keep);
          } finally {
            await store.close();
          }
        },
      ),
      { seed: 190_019, numRuns: 15 },
    );
  }, 120_000);
});

/**
 * `materialize` against a Redis that is down when the writes start and comes back later (a
 * real redis-server with an append-only file, stopped and started by the test): the writes are
 * retried with growing delays, and once Redis is back every stored feature equals what the
 * same materialization wrote into a store that never went down.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { genData } from '../../examples/ecommerce/datagen/index.ts';
import { materialize } from '../../materialize/materialize.ts';
import { DuckDBOfflineStore } from '../../offline/duckdb/duckdb-offline-store.ts';
import { createOnlineStore } from '../../online/create-online-store.ts';
import type { OnlineStore } from '../../online/online-store.ts';
import { floatsEqual } from '../../aggregation/index.ts';
import { loadRepository } from '../../definitions/load.ts';
import { encodeEntityKey } from '../../aggregation/tiles.ts';
import { startRedisServer } from '../support/redis-server.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('materialize: Redis down, then back', () => {
  it('retries with backoff and loads everything once Redis is back', async () => {
    const repo = await loadRepository('examples/ecommerce/features');
    const dir = mkdtempSync(join(tmpdir(), 'larder-mat-outage-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const end = Math.ceil(Date.now() / 60_000) * 60_000;
    await genData({
      users: 20,
      products: 15,
      days: 3,
      events: 3000,
      seed: 61,
      end,
      outDir: dir,
      format: 'jsonl',
    });
    const offline = new DuckDBOfflineStore({ type: 'duckdb', dataDir: dir, home: dir });
    await offline.init();
    cleanups.push(() => offline.close());
    const views = [...repo.featureViews.values()].map((v) => v.spec);
    const open = async (config: Parameters<typeof createOnlineStore>[0]): Promise<OnlineStore> => {
      const s = createOnlineStore(config, { namespace: `test-${randomUUID()}`, views });
      await s.init();
      cleanups.push(async () => {
        await s.teardown().catch(() => undefined);
        await s.close();
      });
      return s;
    };
    const reference = await open({ type: 'sqlite', path: join(dir, 'reference.sqlite') });
    await materialize({ repo, offline, online: reference, end });

    const redis = await startRedisServer({ persistent: true });
    cleanups.push(redis.close);
    const online = await open({ type: 'redis', url: redis.url });
    await redis.stop();
    const retries: { attempt: number; delayMs: number; code: string }[] = [];
    let back: Promise<void> | null = null;
    await materialize({
      repo,
      offline,
      online,
      end,
      onRetry: (r) => {
        retries.push({ attempt: r.attempt, delayMs: r.delayMs, code: r.error.code });
        // Redis returns after a few failed attempts.
        if (r.attempt === 4) back ??= redis.start();
      },
    });
    await back;
    expect(retries.length).toBeGreaterThanOrEqual(4);
    expect(retries.slice(0, 4)).toEqual([
      { attempt: 1, delayMs: 100, code: 'LARDER_STORE_UNAVAILABLE' },
      { attempt: 2, delayMs: 200, code: 'LARDER_STORE_UNAVAILABLE' },
      { attempt: 3, delayMs: 400, code: 'LARDER_STORE_UNAVAILABLE' },
      { attempt: 4, delayMs: 800, code: 'LARDER_STORE_UNAVAILABLE' },
    ]);

    // Every feature of every entity equals the reference materialization.
    const keys = {
      user: Array.from({ length: 20 }, (_, i) => `u${String(i).padStart(5, '0')}`),
      product: Array.from({ length: 15 }, (_, i) => `p${String(i).padStart(5, '0')}`),
    };
    let compared = 0;
    for (const view of views.filter((v) => v.online)) {
      const entityKeys = keys[view.entities[0] as 'user' | 'product'].map((k) =>
        encodeEntityKey([k]),
      );
      const req = [{ view, entityKeys, t: end }];
      const [got] = await online.readMany(req);
      const [want] = await reference.readMany(req);
      const diffs: string[] = [];
      want!.rows.forEach((row, r) =>
        row.forEach((w, f) => {
          const g = got!.rows[r]![f]!;
          const same =
            g.status === w.status &&
            g.eventTs === w.eventTs &&
            (typeof g.value === 'number' && typeof w.value === 'number'
              ? floatsEqual(g.value, w.value)
              : JSON.stringify(g.value) === JSON.stringify(w.value)); // lists too
          if (!same)
            diffs.push(
              `${view.name}:${got!.features[f]} ${entityKeys[r]}: ${JSON.stringify(g)} vs ${JSON.stringify(w)}`,
            );
        }),
      );
      expect(diffs).toEqual([]);
      compared += got!.rows.flat().filter((v) => v.status === 'PRESENT').length;
    }
    expect(compared).toBeGreaterThan(100);
  }, 180_000);

  it('gives up after retryForMs with the store error', async () => {
    const repo = await loadRepository('examples/ecommerce/features');
    const dir = mkdtempSync(join(tmpdir(), 'larder-mat-outage-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const end = Math.ceil(Date.now() / 60_000) * 60_000;
    await genData({
      users: 5,
      products: 5,
      days: 1,
      events: 200,
      seed: 62,
      end,
      outDir: dir,
      format: 'jsonl',
    });
    const offline = new DuckDBOfflineStore({ type: 'duckdb', dataDir: dir, home: dir });
    await offline.init();
    cleanups.push(() => offline.close());
    const redis = await startRedisServer();
    cleanups.push(redis.close);
    const online = createOnlineStore(
      { type: 'redis', url: redis.url },
      {
        namespace: `test-${randomUUID()}`,
        views: [...repo.featureViews.values()].map((v) => v.spec),
      },
    );
    await online.init();
    cleanups.push(() => online.close());
    await redis.stop();
    const attempts: number[] = [];
    await expect(
      materialize({
        repo,
        offline,
        online,
        end,
        retryForMs: 1000,
        onRetry: (r) => attempts.push(r.attempt),
      }),
    ).rejects.toMatchObject({ code: 'LARDER_STORE_UNAVAILABLE' });
    expect(attempts).toEqual([1, 2, 3]); // 0.1 + 0.2 + 0.4 s; the next 0.8 s would pass 1 s
  }, 120_000);
});

/**
 * Which events `materialize` loads by default: `tilesStart(view, end)` (the first hop a read at
 * any `t >= end` merges), aligned to the view's largest hop — not `end - max(ttl, window)`, the
 * start the materializer used to compute on its own. The TTL only bounds lifetime values, whose
 * states `computeTiles` builds from every event before `end` whatever the start, so loading the
 * TTL's worth of tiles only wrote tiles no read at `t >= end` merges.
 */
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { windowStart } from '../../aggregation/index.ts';
import { loadRepository } from '../../definitions/load.ts';
import type { Repository } from '../../definitions/repository.ts';
import type { FeatureViewSpec } from '../../definitions/spec.ts';
import { alignStart, materialize } from '../../materialize/materialize.ts';
import type { ComputeTilesRequest, OfflineStore, TileBatch } from '../../offline/offline-store.ts';
import { tilesStart } from '../../offline/tile-writes.ts';
import type { OnlineStore } from '../../online/online-store.ts';
import type { LifetimeWrite, TileWrite } from '../../aggregation/tiles.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const END = Date.UTC(2024, 2, 10, 13, 37, 12, 345);

let repo: Repository;
beforeAll(async () => {
  repo = await loadRepository(resolve(import.meta.dirname, '../../examples/ecommerce/features'));
});

/** An offline store that records each computeTiles request and yields `batch` once. */
function recordingOffline(batch: TileBatch) {
  const requests: ComputeTilesRequest[] = [];
  const store = {
    computeTiles: async (_view: unknown, r: ComputeTilesRequest) => {
      requests.push(r);
      return {
        batches: (async function* () {
          yield batch;
        })(),
        rejects: () => [],
      };
    },
  } as unknown as OfflineStore;
  return { store, requests };
}

function recordingOnline() {
  const tiles: TileWrite[] = [];
  const lifetime: LifetimeWrite[] = [];
  const store = {
    writeTilesMergeLifetime: async (t: TileWrite[], w: LifetimeWrite[]) => {
      tiles.push(...t);
      lifetime.push(...w);
    },
  } as unknown as OnlineStore;
  return { store, tiles, lifetime };
}

describe('materialize: the default start', () => {
  it('is tilesStart aligned to the largest hop, not end minus the TTL', async () => {
    const view = repo.featureViews.get('user_activity')!.spec;
    // The view's TTL (30d) is longer than its longest window (7d): the two starts differ.
    expect(view.ttlMs).toBe(30 * DAY);
    const maxHop = Math.max(...view.features.map((f) => f.hopMs ?? 1));
    const start = tilesStart(view, END);
    const longest = view.features.find((f) => f.windowMs === 7 * DAY)!;
    expect(start).toBe(windowStart(END, longest.windowMs!, longest.hopMs!));
    const oldStart = Math.floor((END - view.ttlMs) / maxHop) * maxHop;
    expect(alignStart(view, start)).toBeGreaterThan(oldStart + 20 * DAY);

    const offline = recordingOffline({ tiles: [], lifetime: [] });
    const [r] = await materialize({
      repo,
      offline: offline.store,
      online: recordingOnline().store,
      views: ['user_activity'],
      end: END,
    });
    expect(offline.requests).toHaveLength(1);
    expect(offline.requests[0]).toMatchObject({ start: alignStart(view, start), end: END + 1 });
    expect(r).toMatchObject({ view: 'user_activity', start: alignStart(view, start), end: END });
    expect(r!.start % maxHop).toBe(0);
  });

  it('an explicit start is aligned down to the largest hop', async () => {
    const view = repo.featureViews.get('user_activity')!.spec;
    const offline = recordingOffline({ tiles: [], lifetime: [] });
    await materialize({
      repo,
      offline: offline.store,
      online: recordingOnline().store,
      views: ['user_activity'],
      end: END,
      start: () => END - 2 * HOUR - 1,
    });
    expect(offline.requests[0]!.start).toBe(alignStart(view, END - 2 * HOUR - 1));
    expect(offline.requests[0]!.start).toBeLessThanOrEqual(END - 2 * HOUR - 1);
  });

  it('aligns to every hop: the largest when hops divide each other, else their multiple', () => {
    const MIN = 60_000;
    const spec = (hops: number[]) =>
      ({
        features: [...hops.map((h) => ({ hopMs: h, windowMs: 2 * h })), { hopMs: null }],
      }) as unknown as FeatureViewSpec;
    const t = END - 2 * HOUR - 1;
    expect(alignStart(spec([MIN, HOUR, DAY]), t)).toBe(Math.floor(t / DAY) * DAY);
    const odd = alignStart(spec([7 * MIN, HOUR]), t);
    // Aligned to the hour only, the 7-minute tile holding it would start earlier and be partial.
    expect((Math.floor(t / HOUR) * HOUR) % (7 * MIN)).not.toBe(0);
    expect(odd % (7 * MIN)).toBe(0);
    expect(odd % HOUR).toBe(0);
    expect(odd).toBeLessThanOrEqual(t);
    expect(t - odd).toBeLessThan(7 * HOUR);
  });

  it('writes what toTileWrites converts: entity keys encoded, the view named', async () => {
    const offline = recordingOffline({
      tiles: [
        { key: ['u1'], hopMs: HOUR, hop: Math.floor(END / HOUR), states: { events_24h: 2 } },
        // Every window has left hop 5 by END: computed, not written.
        { key: ['u1'], hopMs: HOUR, hop: 5, states: { events_24h: 1 } },
      ],
      lifetime: [{ key: ['u1'], states: {} }],
    });
    const online = recordingOnline();
    const [r] = await materialize({
      repo,
      offline: offline.store,
      online: online.store,
      views: ['user_activity'],
      end: END,
    });
    expect(online.tiles).toEqual([
      {
        view: 'user_activity',
        entityKey: 'u1',
        hopMs: HOUR,
        hop: Math.floor(END / HOUR),
        states: { events_24h: 2 },
      },
    ]);
    expect(online.lifetime).toEqual([{ view: 'user_activity', entityKey: 'u1', states: {} }]);
    expect(r).toMatchObject({ tiles: 1, skipped: 1, lifetime: 1 });
  });
});

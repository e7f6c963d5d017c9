/**
 * `materialize` writes one batch while the offline store computes the next: the next batch is
 * asked for while a write is under way, writes stay in order and one at a time, and a write
 * that fails ends the run with its error once the offline store's batches are closed.
 */
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadRepository } from '../../definitions/load.ts';
import type { Repository } from '../../definitions/repository.ts';
import { materialize } from '../../materialize/materialize.ts';
import type { OfflineStore, TileBatch } from '../../offline/offline-store.ts';
import type { OnlineStore } from '../../online/online-store.ts';
import type { LifetimeWrite } from '../../aggregation/tiles.ts';

const END = Date.UTC(2024, 2, 10, 13, 37, 12, 345);

let repo: Repository;
beforeAll(async () => {
  repo = await loadRepository(resolve(import.meta.dirname, '../../examples/ecommerce/features'));
});

/** Batch `i`: one lifetime state of user `u<i>`. */
const batch = (i: number): TileBatch => ({
  tiles: [],
  lifetime: [
    { key: [`u${i}`], states: { last_event_type: { v: 'view', ts: END - i, id: `e${i}` } } },
  ],
});

/** A run over `n` batches whose `fail`-th write (1-based) throws; the order of what happened. */
async function run(n: number, fail = 0): Promise<{ log: string[]; error: unknown }> {
  const log: string[] = [];
  const offline = {
    computeTiles: async () => ({
      batches: (async function* () {
        try {
          for (let i = 1; i <= n; i++) {
            log.push(`compute ${i}`);
            yield batch(i);
          }
        } finally {
          log.push('closed');
        }
      })(),
      rejects: () => [],
    }),
  } as unknown as OfflineStore;
  let writes = 0;
  const online = {
    writeTilesMergeLifetime: async (_t: unknown, w: LifetimeWrite[]) => {
      const i = ++writes;
      log.push(`write ${w[0]!.entityKey} start`);
      await new Promise((r) => setTimeout(r, 5));
      if (i === fail) throw new Error(`write ${i} failed`);
      log.push(`write ${w[0]!.entityKey} end`);
    },
  } as unknown as OnlineStore;
  try {
    await materialize({ repo, offline, online, views: ['user_activity'], end: END });
    return { log, error: null };
  } catch (e) {
    return { log, error: e };
  }
}

describe('materialize: one batch written while the next is computed', () => {
  it('asks for the next batch during a write, and writes in order one at a time', async () => {
    const { log, error } = await run(3);
    expect(error).toBeNull();
    expect(log).toEqual([
      'compute 1',
      'write u1 start',
      'compute 2',
      'write u1 end',
      'write u2 start',
      'compute 3',
      'write u2 end',
      'write u3 start',
      'closed',
      'write u3 end',
    ]);
  });

  it('ends with the failed write’s error, the batches closed', async () => {
    const { log, error } = await run(4, 2);
    expect((error as Error).message).toBe('write 2 failed');
    expect(log).toEqual([
      'compute 1',
      'write u1 start',
      'compute 2',
      'write u1 end',
      'write u2 start',
      'compute 3',
      'closed',
    ]);
  });
});

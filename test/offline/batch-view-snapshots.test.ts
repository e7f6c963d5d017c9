/**
 * DuckDB batch view snapshots beyond the conformance cases: the per-snapshot-time cache (keyed
 * on the source files and the query), the one-row-per-entity check, and `batchSnapshot` (what
 * materialization writes).
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, describe, expect, it } from 'vitest';
import { LarderError } from '../../core/errors.ts';
import { loadRepository } from '../../definitions/load.ts';
import { DuckDBOfflineStore } from '../../offline/duckdb/duckdb-offline-store.ts';
import { BASE_REPO, tempDir, tempRepo } from '../support/temp-repo.ts';

const DAY = 86_400_000;
const D = Date.UTC(2024, 2, 1);
const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const VIEW = (query: string) => `
import { batchView, col } from 'larder';
import { events, user } from './repo.ts';
export const spend = batchView({
  name: 'spend', entities: [user], source: events,
  columns: { user_id: col('userId'), amount: col('amount') },
  window: '7d', every: '1d', ttl: '1d',
  query: '${query}',
  features: { spend_7d: 'float64' },
});
`;
const GROUPED = 'SELECT user_id, SUM(amount) AS spend_7d FROM source GROUP BY user_id';

async function setup(query = GROUPED, engine: 'sql' | 'sweep' = 'sql') {
  const r = tempRepo({ 'repo.ts': BASE_REPO, 'batch.ts': VIEW(query) });
  cleanups.push(r.cleanup);
  const repo = await loadRepository(r.dir);
  const tmp = tempDir();
  cleanups.push(tmp.cleanup);
  const dataDir = join(tmp.dir, 'data');
  const home = join(tmp.dir, 'home');
  const store = new DuckDBOfflineStore({ type: 'duckdb', dataDir, home, engine });
  await store.init();
  cleanups.push(() => store.close());
  const write = (lines: object[]): void => {
    const dir = join(dataDir, 'raw/events');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'part.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  };
  const ev = (id: string, userId: string, amount: number, ts: number) => ({
    id,
    userId,
    kind: 'buy',
    amount,
    ts,
  });
  const spend = async (t: number) =>
    (
      await store.exportPointInTime({
        repo,
        features: repo.resolveFeatures({ features: ['spend:spend_7d'] }),
        entities: { type: 'rows', rows: [{ user_id: 'u1', event_timestamp: t }] },
        out: { type: 'memory' },
      })
    ).data![0]!.spend_7d;
  return { repo, store, home, tmp: tmp.dir, write, ev, spend };
}

describe('batch view snapshots on DuckDB', () => {
  it('caches each snapshot time, keyed on the source files and the query', async () => {
    const { home, write, ev, spend } = await setup();
    write([ev('e1', 'u1', 5, D - DAY - 1), ev('e2', 'u1', 7, D - 1)]);
    expect(await spend(D)).toBe(12);
    expect(await spend(D - 1)).toBe(5);
    const cache = join(home, 'offline-cache', 'batch-views');
    const [dir] = readdirSync(cache);
    expect(dir).toMatch(/^spend-[0-9a-f]{24}$/);
    expect(readdirSync(join(cache, dir!)).sort()).toEqual([`${D - DAY}.parquet`, `${D}.parquet`]);
    // A second export reads the cached snapshot (tampered with here, to tell it was read).
    const file = join(cache, dir!, `${D}.parquet`);
    const db = await (await DuckDBInstance.create(':memory:')).connect();
    await db.run(
      `COPY (SELECT __snapshot, user_id, 99.0::DOUBLE AS spend_7d FROM read_parquet('${file}')) TO '${file}.x' (FORMAT parquet)`,
    );
    await db.run(`COPY (SELECT * FROM read_parquet('${file}.x')) TO '${file}' (FORMAT parquet)`);
    db.closeSync();
    expect(await spend(D)).toBe(99);
    // New source files: a new key, so the snapshot is computed again.
    write([ev('e1', 'u1', 5, D - DAY - 1), ev('e2', 'u1', 7, D - 1), ev('e3', 'u1', 1, D - 2)]);
    expect(await spend(D)).toBe(13);
    expect(readdirSync(cache)).toHaveLength(2);
  });

  it('the sweep writes a Parquet file with batch features between its window features', async () => {
    const { repo, store, tmp, write, ev } = await setup(GROUPED, 'sweep');
    write([ev('e1', 'u1', 5, D - DAY - 1), ev('e2', 'u1', 7, D - 1), ev('e3', 'u2', 1, D + 1)]);
    const out = join(tmp, 'train.parquet');
    await store.exportPointInTime({
      repo,
      features: repo.resolveFeatures({
        features: ['activity:spend_7d', 'spend:spend_7d', 'activity:last_kind'],
      }),
      entities: {
        type: 'rows',
        rows: [
          { user_id: 'u1', event_timestamp: D + 2 },
          { user_id: 'u2', event_timestamp: D + 2 },
        ],
      },
      out: { type: 'file', path: out },
      fullFeatureNames: true,
    });
    const db = await (await DuckDBInstance.create(':memory:')).connect();
    const rows = (await db.runAndReadAll(`SELECT * FROM read_parquet('${out}')`)).getRowObjectsJS();
    db.closeSync();
    expect(rows).toEqual([
      {
        user_id: 'u1',
        event_timestamp: BigInt(D + 2),
        activity__spend_7d: 12,
        spend__spend_7d: 12,
        activity__last_kind: 'buy',
      },
      {
        user_id: 'u2',
        event_timestamp: BigInt(D + 2),
        activity__spend_7d: 1,
        spend__spend_7d: null,
        activity__last_kind: 'buy',
      },
    ]);
  });

  it('refuses a query that returns two rows for one entity, naming it', async () => {
    const { write, ev, spend } = await setup('SELECT user_id, amount AS spend_7d FROM source');
    write([ev('e1', 'u1', 5, D - DAY - 1), ev('e2', 'u1', 7, D - 1)]);
    const err = await spend(D).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(LarderError);
    expect(err).toMatchObject({ code: 'LARDER_DEFINITION_INVALID' });
    expect((err as Error).message).toContain(
      'the query returns 2 rows for user_id=u1, not one (snapshot at 2024-03-01T00:00:00.000Z)',
    );
  });

  it('a query that fails on the data (not on the empty input apply runs) names the view and D', async () => {
    const { repo, store, write, ev, spend } = await setup(
      'SELECT user_id, SUM(amount) / CAST(user_id AS BIGINT) AS spend_7d FROM source GROUP BY user_id',
    );
    write([ev('e1', 'u1', 5, D - DAY)]);
    const message =
      /^1 problem in the feature definitions:\n {2}\S+batch\.ts:\d+: batch view "spend" → query: the query fails: Conversion Error: Could not convert string 'u1' to INT64[^\n]* \(snapshot at 2024-03-01T00:00:00\.000Z\)\n/;
    // The export (every snapshot time the entity rows need) and materialization (one snapshot).
    for (const run of [() => spend(D), () => store.batchSnapshot({ repo, view: 'spend', at: D })]) {
      const err = await run().then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ code: 'LARDER_DEFINITION_INVALID' });
      expect((err as Error).message).toMatch(message);
      expect((err as Error).message).toMatch(/hint: make the query hold for every record/);
    }
  });

  it('batchSnapshot: one row per entity of the snapshot at D (what materialize writes)', async () => {
    const { repo, store, write, ev } = await setup();
    write([ev('e1', 'u1', 5, D - DAY), ev('e2', 'u2', 7, D), ev('e3', 'u3', 1, D - 8 * DAY)]);
    const snap = await store.batchSnapshot({ repo, view: 'spend', at: D });
    expect(snap.rows).toEqual([{ key: ['u1'], values: { spend_7d: 5 } }]);
    await expect(store.batchSnapshot({ repo, view: 'nope', at: D })).rejects.toMatchObject({
      code: 'LARDER_NOT_FOUND',
    });
  });
});

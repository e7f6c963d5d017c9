/**
 * `materialize` on worker threads (`workers`): views handed out biggest first, a first run
 * validating each raw file once although two workers read the same source, the same stored
 * state as the views in turn (the consistency tests run one seed on workers against the
 * export), and a worker's failure ending the run with its error.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../config/config.ts';
import { LarderError } from '../../core/errors.ts';
import { onlineViewSpecs } from '../../definitions/batch/serving-view.ts';
import { loadRepository } from '../../definitions/load.ts';
import type { Repository } from '../../definitions/repository.ts';
import { genData } from '../../examples/ecommerce/datagen/index.ts';
import { materialize, selectViews } from '../../materialize/materialize.ts';
import { byCost } from '../../materialize/materialize-workers.ts';
import { DuckDBOfflineStore } from '../../offline/duckdb/duckdb-offline-store.ts';
import { createOnlineStore } from '../../online/create-online-store.ts';

const REPO = resolve(import.meta.dirname, '../../examples/ecommerce/features');
// The last whole hour: tiles expire on the real clock, and these must still be live.
const END = Math.floor(Date.now() / 3_600_000) * 3_600_000;

let repo: Repository;
let dir: string;
beforeAll(async () => {
  repo = await loadRepository(REPO);
  dir = mkdtempSync(join(tmpdir(), 'larder-mat-workers-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A JSON value with every object's keys sorted (a map state's key order differs run to run). */
const canonical = (v: unknown): unknown =>
  Array.isArray(v)
    ? v.map(canonical)
    : v !== null && typeof v === 'object'
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
        )
      : v;

/**
 * The rows of an SQLite online store's field table, sorted (expiries included), that are live
 * until `after` (a field whose expiry passed between the two runs is stored by one only).
 */
function dump(path: string, after: number): unknown[] {
  const db = new Database(path, { readonly: true });
  try {
    return (
      db
        .prepare('SELECT * FROM online_fields WHERE expires_at > ? ORDER BY 1, 2, 3, 4')
        .all(after) as { value: string }[]
    ).map((r) => ({ ...r, value: canonical(JSON.parse(r.value)) }));
  } finally {
    db.close();
  }
}

describe('materialize on worker threads', () => {
  it('hands out views biggest first: more entities, then sequence features, then more features', () => {
    const names = byCost(selectViews(repo)).map((v) => v.name);
    expect(names[0]).toBe('user_product_engagement');
    // The views with sequence features come next.
    expect(new Set(names.slice(1, 3))).toEqual(new Set(['user_sessions', 'user_risk']));
    expect(names).toHaveLength(selectViews(repo).length);
  });

  it('validates each raw file once on a first run, and stores what the views in turn store', async () => {
    const data = join(dir, 'data');
    await genData({
      users: 30,
      products: 20,
      days: 3,
      events: 3_000,
      seed: 4,
      end: END,
      outDir: data,
      format: 'jsonl',
    });
    const views = onlineViewSpecs(repo);
    const run = async (name: string, workers: number): Promise<Map<string, number>> => {
      const home = join(dir, name);
      const path = join(home, 'online.sqlite');
      const config = resolveConfig(
        { repo: REPO, home, dataDir: data, namespace: 'w', onlineStore: { type: 'sqlite', path } },
        process.cwd(),
        {},
      );
      const offline = new DuckDBOfflineStore({ type: 'duckdb', dataDir: data, home });
      const online = createOnlineStore(config.onlineStore, { namespace: 'w', views });
      await Promise.all([offline.init(), online.init()]);
      /** Raw files validated, per view that validated them. */
      const validated = new Map<string, number>();
      try {
        const results = await materialize({
          repo,
          offline,
          online,
          end: END,
          ...(workers > 1 ? { workers: { count: workers, repo: REPO, config } } : {}),
          onValidate: (view, p) => p.done && validated.set(view, p.filesTotal),
        });
        // Results in the views' order, whichever worker finished first.
        expect(results.map((r) => r.view)).toEqual(selectViews(repo).map((v) => v.name));
      } finally {
        await Promise.all([offline.close(), online.close()]);
      }
      return validated;
    };
    const inTurn = await run('in-turn', 1);
    const onWorkers = await run('workers', 2);
    // Each source validated by one view: as many files as in turn, every file cached once.
    const files = (m: Map<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0);
    expect(files(onWorkers)).toBe(files(inTurn));
    expect(files(onWorkers)).toBeGreaterThan(0);
    const cached = readdirSync(join(dir, 'workers', 'offline-cache'));
    expect(cached.filter((f) => f.endsWith('.parquet'))).toHaveLength(files(onWorkers));
    expect(cached.filter((f) => f.includes('.tmp') || f.startsWith('plan.'))).toEqual([]);
    const after = Date.now() + 10 * 60_000;
    const a = dump(join(dir, 'in-turn', 'online.sqlite'), after);
    expect(a.length).toBeGreaterThan(1000);
    expect(dump(join(dir, 'workers', 'online.sqlite'), after)).toEqual(a);
  }, 120_000);

  it("ends the run with a worker's error", async () => {
    const home = join(dir, 'failing');
    const config = resolveConfig(
      {
        repo: REPO,
        home,
        dataDir: home,
        namespace: 'f',
        onlineStore: { type: 'sqlite', path: join(home, 'online.sqlite') },
      },
      process.cwd(),
      {},
    );
    const offline = new DuckDBOfflineStore({ type: 'duckdb', dataDir: home, home });
    const online = createOnlineStore(config.onlineStore, {
      namespace: 'f',
      views: onlineViewSpecs(repo),
    });
    try {
      const error = await materialize({
        repo,
        offline,
        online,
        end: END,
        // Each worker loads the repository from this folder, which does not exist.
        workers: { count: 2, repo: join(home, 'no-repo'), config },
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LarderError);
      expect((error as LarderError).code).toBe('LARDER_DEFINITION_INVALID');
      expect((error as LarderError).message).toContain('no-repo');
    } finally {
      await Promise.all([offline.close(), online.close()]);
    }
  }, 60_000);
});

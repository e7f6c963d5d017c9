/**
 * Events with the same key and time, however the sweep's index build reads their ids
 * (offline/duckdb/sweep/build-pass-index.ts `tieReads`): with the ids in the sort, by their
 * 31-bit hashes (the real hash, with ids that collide in it, or a hash of 2 bits: most ids
 * collide), read again with the pass's query, runs' times as literals or through a temp table,
 * in partitions of a few events (runs at a partition's first and last key), and from a plan
 * loaded from the index cache (no key counts: no hashes). Random user events — many at a few
 * times, ids drawn from a pool holding pairs that collide in DuckDB's hash, code-point orders
 * JavaScript's default sort gets wrong, replays of one id, records without an id (rejects) —
 * exported by the sweep equal the SQL window engine's export of the same data, for
 * recommendation_v1 (`last`, counts, `mode`) and risk_v1 (`count_previous` of IP changes and
 * fast events, sessions): a replayed id with another IP is ordered by value there. The SQL
 * engine's export itself equals the brute-force reference (`reference/`) on the same records (the
 * id-less ones left out, as both engines reject them).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { floatsEqual } from '../../aggregation/index.ts';
import { referenceFeatures } from '../../reference/index.ts';
import { DuckDBOfflineStore } from '../../offline/duckdb/duckdb-offline-store.ts';
import { tieReads } from '../../offline/duckdb/sweep/build-pass-index.ts';
import type { ExportSummary } from '../../offline/offline-store.ts';
import { loadRepository } from '../../definitions/load.ts';
import type { Repository } from '../../definitions/repository.ts';
import { tempDir } from '../support/temp-repo.ts';
import { oneTransactionLine, userEventRecord } from '../support/records.ts';

const END = Date.UTC(2024, 5, 1);
const T0 = END - 3 * 86_400_000;
/** Pairs of ids with the same `hash(id) >> 33` in DuckDB (found by brute force over `e<i>`). */
const COLLIDING = ['e119548', 'e161209', 'e185157', 'e8913', 'e49585', 'e66060'];
/** Ids whose code-point order is not UTF-16 order or numeric order. */
const ODD = ['a', 'B', 'é', 'e10', 'e9', '\u{1F600}', '\uFFFF', 'z', 'e1'];
const USERS = ['u0', 'u1', 'u2'];
const PRODUCTS = ['p0', 'p1'];
/** A few times: most events share one with others of their key. */
const TIMES = [T0, T0 + 1, T0 + 60_000, T0 + 3_600_000];

let tmp: { dir: string; cleanup: () => void };
let repo: Repository;
let run = 0;

beforeAll(async () => {
  tmp = tempDir();
  repo = await loadRepository('examples/ecommerce/features');
});
afterAll(() => tmp.cleanup());

interface Ev {
  id: string | null;
  user: number;
  product: number;
  at: number;
  type: 'page_view' | 'click';
  platform: string;
  price: string;
  category: string;
  ip: string;
}

const evArb: fc.Arbitrary<Ev> = fc.record({
  id: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...COLLIDING) },
    { weight: 4, arbitrary: fc.constantFrom(...ODD) },
    { weight: 1, arbitrary: fc.constant(null) },
  ),
  user: fc.integer({ min: 0, max: USERS.length - 1 }),
  product: fc.integer({ min: 0, max: PRODUCTS.length - 1 }),
  at: fc.integer({ min: 0, max: TIMES.length - 1 }),
  type: fc.constantFrom('page_view' as const, 'click' as const),
  platform: fc.constantFrom('mobile', 'desktop', 'tablet', 'Äpp'),
  price: fc.constantFrom('1.5', '2', '10', '-3'),
  category: fc.constantFrom('books', 'toys', 'Books', 'ünï'),
  ip: fc.constantFrom('10.0.0.1', '10.0.0.2'),
});

const REPLAY: Ev = {
  id: 'a',
  user: 0,
  product: 0,
  at: 0,
  type: 'click',
  platform: 'mobile',
  price: '2',
  category: 'toys',
  ip: '10.0.0.1',
};

/** How the index build reads runs' ids (each reached on this small data by its threshold). */
const pathArb = fc.record({
  /**
   * Ids in the sort (the sampled times repeat more than `share`: 0), their hashes in the sort
   * (more than `hashPairs` pairs expected: -1), or the runs read again (neither).
   */
  how: fc.constantFrom('sort', 'hash', 'hash', 'reread'),
  /** The real 31-bit hash, or 2 bits of it (most ids collide). */
  narrow: fc.boolean(),
  /** Runs' times as literals up to this many, else through a temp table. */
  literals: fc.constantFrom(0, 1000),
  /** Events per partition (keys split into partitions of contiguous codes). */
  partitionEvents: fc.constantFrom(1, 3, 1_000_000),
  /** A first export of one feature of the product pass, so the second loads its plan. */
  warm: fc.boolean(),
});

type PathPlan = typeof pathArb extends fc.Arbitrary<infer P> ? P : never;

/** The records of {@link write}'s files, as the reference evaluator takes them. */
function records(events: Ev[]): Record<string, unknown>[] {
  return events.map((e) => {
    const r = userEventRecord({
      eventId: e.id ?? '',
      userId: USERS[e.user]!,
      eventType: e.type,
      timestamp: TIMES[e.at]!,
      properties: { productId: PRODUCTS[e.product]!, price: e.price, category: e.category },
      platform: e.platform,
    });
    r.context.ip = e.ip;
    // No id: a reject on both engines (the id field is required).
    return e.id === null ? { ...r, eventId: null } : r;
  });
}

function write(data: string, events: Ev[]): void {
  rmSync(data, { recursive: true, force: true });
  mkdirSync(join(data, 'raw/user_events'), { recursive: true });
  mkdirSync(join(data, 'raw/transactions'), { recursive: true });
  const lines = records(events).map((r) => JSON.stringify(r));
  writeFileSync(join(data, 'raw/user_events/part-0.jsonl'), lines.join('\n') + '\n');
  writeFileSync(join(data, 'raw/transactions/part-0.jsonl'), oneTransactionLine(T0));
}

/** Numbers equal within the suite's float tolerance, lists element-wise, others exactly. */
function same(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return floatsEqual(a, b);
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => same(x, b[i]));
  return a === b;
}

/** Every (user, product) at each time, a millisecond before it and at it. */
const ROWS = USERS.flatMap((user_id) =>
  PRODUCTS.flatMap((product_id) =>
    TIMES.flatMap((t) =>
      [t - 1, t, t + 2].map((event_timestamp) => ({ user_id, product_id, event_timestamp })),
    ),
  ),
);

async function exportRows(
  engine: 'sweep' | 'sql',
  data: string,
  home: string,
  partitionEvents: number,
  features: { service: string } | { features: string[] },
): Promise<ExportSummary> {
  const store = new DuckDBOfflineStore({
    type: 'duckdb',
    dataDir: data,
    home,
    memoryLimit: '1GB',
    engine,
    partitionEvents,
  });
  try {
    return await store.exportPointInTime({
      repo,
      features: repo.resolveFeatures(features),
      entities: { type: 'rows', rows: ROWS },
      out: { type: 'memory' },
    });
  } finally {
    await store.close();
  }
}

describe('events with the same key and time, on every path of the index build', () => {
  it('come out in id order (replays by value): the sweep’s export equals the SQL engine’s', async () => {
    const realHash = tieReads.idHash;
    await fc.assert(
      fc.asyncProperty(
        fc.array(evArb, { minLength: 2, maxLength: 40 }),
        pathArb,
        async (events, path) => {
          const n = run++;
          const data = join(tmp.dir, `data-${n}`);
          write(data, events);
          // recommendation_v1 (last, counts, mode by user and by product) and risk_v1
          // (count_previous of IP changes and fast events, sessions by user).
          const services = ['recommendation_v1', 'risk_v1'].map((service) => ({ service }));
          const sql = [];
          for (const service of services)
            sql.push(await exportRows('sql', data, join(tmp.dir, `sql-${n}`), 1_000_000, service));
          // The SQL engine against the brute-force reference, feature by feature.
          const input = {
            user_events_batch: records(events.filter((e) => e.id !== null)),
            transactions_batch: [JSON.parse(oneTransactionLine(T0)) as Record<string, unknown>],
          };
          for (const [i, service] of services.entries()) {
            const features = repo.resolveFeatures(service);
            const want = referenceFeatures(repo, input, ROWS, features);
            expect(want.map((w) => Object.keys(w).length)).toEqual(ROWS.map(() => features.length));
            sql[i]!.data!.forEach((row, r) => {
              for (const [k, v] of Object.entries(want[r]!))
                if (!same(row[k], v))
                  expect({ row: r, entity: ROWS[r], feature: k, got: row[k] }).toEqual({
                    row: r,
                    entity: ROWS[r],
                    feature: k,
                    got: v,
                  });
            });
          }
          const saved = { ...tieReads };
          Object.assign(tieReads, {
            share: path.how === 'sort' ? 0 : 1,
            hashPairs: path.how === 'hash' ? -1 : Infinity,
            literals: path.literals,
            idHash: path.narrow ? (id: string) => `CAST(hash(${id}) >> 62 AS INTEGER)` : realHash,
          });
          try {
            const home = join(tmp.dir, `sweep-${n}`);
            if (path.warm)
              await exportRows('sweep', data, home, path.partitionEvents, {
                features: ['product_catalog:price'],
              });
            for (const [i, service] of services.entries()) {
              const swept = await exportRows('sweep', data, home, path.partitionEvents, service);
              expect(swept.rows).toBe(ROWS.length);
              expect(swept.rejects).toEqual(sql[i]!.rejects);
              expect(swept.data).toEqual(sql[i]!.data);
            }
          } finally {
            Object.assign(tieReads, saved);
            rmSync(data, { recursive: true, force: true });
          }
        },
      ),
      {
        seed: 190_001,
        numRuns: 10,
        // First, a replayed id with another IP after an event of the first IP (one change in
        // the reference's order: the replay's events by value), on each path.
        examples: (['sort', 'hash', 'reread'] as const).map((how): [Ev[], PathPlan] => [
          [
            { ...REPLAY, id: 'a', at: 0 },
            { ...REPLAY, id: 'z', at: 1, ip: '10.0.0.2' },
            { ...REPLAY, id: 'z', at: 1 },
          ],
          { how, narrow: false, literals: 1000, partitionEvents: 1_000_000, warm: false },
        ]),
      },
    );
  }, 180_000);
});

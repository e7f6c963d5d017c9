/**
 * The sweep's index build scans each pass's source once for its dictionaries
 * (offline/duckdb/sweep/build-pass-index.ts `planPass`): the key dictionary and the dictionaries
 * of the string inputs come from one `GROUPING SETS` aggregation; only a mode feature's items
 * (rows of their own) get a scan of their own. A pass whose keys are read from a map (the
 * product pass) has its events staged once in a temp table, which its dictionaries and index
 * read: its map is decoded once. The sorted index carries no event ids: events
 * with the same key and time are read again, filtered on those times (or, with id hashes in
 * the sort, their ids found by hash among the source's events at those times), and ordered by
 * id. The export's values equal the SQL engine's.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { genData } from '../../examples/ecommerce/datagen/index.ts';
import { DuckDBOfflineStore } from '../../offline/duckdb/duckdb-offline-store.ts';
import { DuckDBClient } from '../../offline/local/duckdb-client.ts';
import { tieReads } from '../../offline/duckdb/sweep/build-pass-index.ts';
import type { ExportSummary } from '../../offline/offline-store.ts';
import { loadRepository } from '../../definitions/load.ts';
import type { Repository } from '../../definitions/repository.ts';
import { tempDir } from '../support/temp-repo.ts';
import { oneTransactionLine, userEventRecord } from '../support/records.ts';

const END = Date.UTC(2024, 5, 1);
let tmp: { dir: string; cleanup: () => void };
let repo: Repository;

/**
 * Runs `fn`, recording every statement that reads a source view (`src_<n>`) or a pass's staged
 * events (`events_<n>`), and apart, in order with them, each drop of staged events.
 */
async function sourceReads<T>(
  fn: () => Promise<T>,
): Promise<{ result: T; reads: string[]; drops: number[] }> {
  const reads: string[] = [];
  /** Per drop of staged events: how many reads came before it. */
  const drops: number[] = [];
  const proto = DuckDBClient.prototype as unknown as Record<
    'run' | 'all' | 'streamRaw',
    (this: DuckDBClient, sql: string) => unknown
  >;
  const saved = { run: proto.run, all: proto.all, streamRaw: proto.streamRaw };
  for (const m of ['run', 'all', 'streamRaw'] as const)
    proto[m] = function (this: DuckDBClient, sql: string) {
      if (/^DROP TABLE events_\d+$/.test(sql)) drops.push(reads.length);
      else if (
        /\b(src|events)_\d+\b/.test(sql) &&
        !/^(CREATE TEMP VIEW|DROP VIEW|DROP TABLE)/.test(sql)
      )
        reads.push(sql);
      return saved[m].call(this, sql);
    };
  try {
    return { result: await fn(), reads, drops };
  } finally {
    Object.assign(proto, saved);
  }
}

type EntityRow = { user_id: string; product_id: string; event_timestamp: number };

const defaultRows = (): EntityRow[] =>
  Array.from({ length: 200 }, (_, i) => ({
    user_id: `u${String(i % 30).padStart(5, '0')}`,
    product_id: `p${String(i % 20).padStart(5, '0')}`,
    event_timestamp: END - (i % 30) * 86_400_000 + i * 1_000,
  }));

async function exportRows(
  engine: 'sweep' | 'sql',
  home: string,
  data = 'data',
  rows: EntityRow[] = defaultRows(),
  partitionEvents?: number,
): Promise<ExportSummary> {
  const store = new DuckDBOfflineStore({
    type: 'duckdb',
    dataDir: join(tmp.dir, data),
    home: join(tmp.dir, home),
    memoryLimit: '1GB',
    engine,
    ...(partitionEvents ? { partitionEvents } : {}),
  });
  try {
    return await store.exportPointInTime({
      repo,
      features: repo.resolveFeatures({ service: 'recommendation_v1' }),
      entities: { type: 'rows', rows },
      out: { type: 'memory' },
    });
  } finally {
    await store.close();
  }
}

/** The sample of a source's first times (`frequentTies`). */
const tieSample = (sql: string): boolean => /count\(DISTINCT t\) AS d FROM \(SELECT /.test(sql);

/** The second read of an index's events at the times where a key has several events. */
const tieRead = (sql: string): boolean =>
  /\bev\.__ts IN \(|"timestamp" IN \(|AS DOUBLE\) IN \(SELECT ts FROM /.test(sql);
const tieEstimate = (sql: string): boolean => sql.endsWith(' AS span');
/** A tie read of the pass's own query (its key and inputs), not of the times and ids alone. */
const fullTieRead = (sql: string): boolean => tieRead(sql) && sql.includes(' JOIN ');

beforeAll(async () => {
  tmp = tempDir();
  repo = await loadRepository('examples/ecommerce/features');
  await genData({
    users: 30,
    products: 20,
    days: 30,
    events: 5_000,
    seed: 5,
    end: END,
    outDir: join(tmp.dir, 'data'),
    format: 'jsonl',
  });
});

afterAll(() => tmp.cleanup());

describe('sweep index build', () => {
  it('reads each pass’s dictionaries in one scan, with the SQL engine’s values', async () => {
    const { result: swept, reads } = await sourceReads(() => exportRows('sweep', 'home-sweep'));
    // Index queries (sorted by key code and time), one per pass and partition, and mode items.
    const index = reads.filter((s) => / ORDER BY \w+\.__code, \w+\.__ts$/.test(s) && !tieRead(s));
    // Each index build first samples its source's times (are runs of equal times common?).
    expect(reads.filter(tieSample)).toHaveLength(3);
    // And estimates its ties from its key counts over the source's time span, but the staged
    // product pass, whose index carries the id hashes it staged.
    expect(reads.filter(tieEstimate)).toHaveLength(2);
    const staging = reads.filter((s) => /^CREATE TEMP TABLE events_\d+ AS /.test(s));
    expect(staging).toHaveLength(1);
    // The product key's map is decoded by that statement alone.
    expect(reads.filter((s) => /\bsrc_\d+\b/.test(s) && s.includes("'productId'"))).toEqual(
      staging,
    );
    const dicts = reads.filter(
      (s) =>
        !index.includes(s) &&
        !tieRead(s) &&
        !tieSample(s) &&
        !tieEstimate(s) &&
        !staging.includes(s),
    );
    // recommendation_v1: user events by user (string input: platform), user events by product
    // (string input: category), transactions by user (a mode over the order items' categories).
    expect(index).toHaveLength(4); // three passes, one partition each, and the mode's items
    expect(dicts.filter((s) => s.includes('GROUPING SETS'))).toHaveLength(2);
    expect(dicts.filter((s) => s.startsWith('SELECT DISTINCT'))).toHaveLength(1); // mode items
    expect(dicts).toHaveLength(4); // + the transactions pass's keys (no string input)

    const sql = await exportRows('sql', 'home-sql');
    expect(swept.rows).toBe(200);
    expect(swept.data).toEqual(sql.data);
    expect(swept.data!.some((r) => r.preferred_category_30d !== null)).toBe(true);
  }, 60_000);

  it('reads the staged product events for each partition’s index, then drops them', async () => {
    const {
      result: swept,
      reads,
      drops,
    } = await sourceReads(() =>
      exportRows('sweep', 'home-sweep-parts', 'data', defaultRows(), 400),
    );
    const staged = reads.filter((s) => /^CREATE TEMP TABLE events_\d+ AS /.test(s));
    expect(staged).toHaveLength(1);
    const table = /^CREATE TEMP TABLE (events_\d+) /.exec(staged[0]!)![1]!;
    const builds = reads.filter(
      (s) => s.includes(`FROM ${table})`) && / ORDER BY \w+\.__code, \w+\.__ts$/.test(s),
    );
    // 5,000 events, ≈ 3,700 of them with a product: several partitions of at most 400 events.
    expect(builds.length).toBeGreaterThan(5);
    // Dropped once, after the last partition's index read them.
    expect(drops).toHaveLength(1);
    expect(reads.slice(drops[0]!).some((s) => s.includes(table))).toBe(false);
    expect(reads.slice(0, drops[0]!).filter((s) => builds.includes(s))).toHaveLength(builds.length);
    const sql = await exportRows('sql', 'home-sql-parts');
    expect(swept.data).toEqual(sql.data);
  }, 60_000);
});

describe('events with the same key and time', () => {
  /**
   * `pairs` pairs of events at one time each (a user's and a product's), the greater id with
   * the greater platform, category and price (`last` keeps the greater id's values) and every
   * third pair a replay (one id twice: `last` keeps the greater values); at each time also one
   * event of a user and product the entity rows do not read.
   */
  function writeTies(data: string, pairs: number): EntityRow[] {
    const t0 = END - 10 * 86_400_000;
    const events: string[] = [];
    for (let i = 0; i < pairs; i++) {
      const user = `u${i % 7}`;
      const timestamp = t0 + i * 1_000;
      const replay = i % 3 === 0;
      const one = (eventId: string, platform: string, price: string, key = i): string =>
        JSON.stringify(
          userEventRecord({
            eventId,
            userId: key === i ? user : 'u9',
            eventType: 'page_view',
            timestamp,
            properties: { productId: key === i ? `p${i % 5}` : 'p9', price, category: platform },
            platform,
          }),
        );
      const later = one(`e${i}b`, 'mobile', '2.5');
      const earlier = one(replay ? `e${i}b` : `e${i}a`, 'desktop', '1.5');
      // In the file, every other pair has the greater id first.
      events.push(...(i % 2 === 0 ? [later, earlier] : [earlier, later]));
      // One event of another user and product at the same time (not a tie).
      events.push(one(`z${i}`, 'tablet', '9', -1));
    }
    mkdirSync(join(tmp.dir, data, 'raw/user_events'), { recursive: true });
    mkdirSync(join(tmp.dir, data, 'raw/transactions'), { recursive: true });
    writeFileSync(join(tmp.dir, data, 'raw/user_events/part-0.jsonl'), events.join('\n') + '\n');
    writeFileSync(join(tmp.dir, data, 'raw/transactions/part-0.jsonl'), oneTransactionLine(t0));
    return Array.from({ length: pairs }, (_, i) => ({
      user_id: `u${i % 7}`,
      product_id: `p${i % 5}`,
      event_timestamp: t0 + i * 1_000 + (i % 2),
    }));
  }

  // Runs' ids found by their hashes among the events at their times (this data repeats times
  // often: `share` raised so it still takes that path), a few times as literals or more (1,200)
  // through a temp table; with every hash equal, the runs read again with the pass's query;
  // or ids in the sort.
  // `hashPairs` -1: hashes whatever the expected ties; Infinity: never (runs read again), but
  // in the product pass, whose staged events carry the hashes (its runs read again would decode
  // its map again).
  const realHash = tieReads.idHash;
  const zero = (): string => '0::INTEGER';
  const cases = [
    { pairs: 4, share: 1, reads: 2, full: 0, idHash: realHash, hashPairs: -1, how: 'ids by hash' },
    {
      pairs: 1_200,
      share: 1,
      reads: 2,
      full: 0,
      idHash: realHash,
      hashPairs: -1,
      how: 'ids by hash',
    },
    { pairs: 4, share: 1, reads: 4, full: 2, idHash: zero, hashPairs: -1, how: 'every hash equal' },
    {
      pairs: 1_200,
      share: 1,
      reads: 4,
      full: 2,
      idHash: zero,
      hashPairs: -1,
      how: 'every hash equal',
    },
    {
      pairs: 4,
      share: 1,
      reads: 2,
      full: 1,
      idHash: realHash,
      hashPairs: Infinity,
      how: 'read again',
    },
    {
      pairs: 1_200,
      share: 1,
      reads: 2,
      full: 1,
      idHash: realHash,
      hashPairs: Infinity,
      how: 'read again',
    },
    {
      pairs: 1_200,
      share: tieReads.share,
      reads: 0,
      full: 0,
      idHash: realHash,
      hashPairs: -1,
      how: 'ids in the sort',
    },
  ];
  for (const { pairs, share, reads: tieReadCount, full, idHash, hashPairs, how } of cases)
    it(`orders them by id, a replayed id by value (${pairs} times, ${how}), as the SQL engine does`, async () => {
      const data = `ties-${pairs}-${share}-${full}-${hashPairs}`;
      const rows = writeTies(data, pairs);
      const saved = { ...tieReads };
      Object.assign(tieReads, { share, idHash, hashPairs });
      const { result: swept, reads } = await sourceReads(() =>
        exportRows('sweep', `home-ties-${pairs}-${share}-${full}-${hashPairs}`, data, rows),
      ).finally(() => Object.assign(tieReads, saved));
      // Both user-event passes have ties (by user and by product); the transactions pass none.
      expect(reads.filter(tieRead)).toHaveLength(tieReadCount);
      expect(reads.filter(fullTieRead)).toHaveLength(full);
      const sql = await exportRows('sql', `home-ties-sql-${pairs}-${share}`, data, rows);
      expect(swept.rows).toBe(pairs);
      expect(swept.data).toEqual(sql.data);
      // Each row reads its pair (at its millisecond, or one ms later): the greater id's values,
      // or a replayed id's greater values.
      for (const r of swept.data!) {
        expect(r.last_platform).toBe('mobile');
        expect(r.price).toBe(2.5);
        expect(r.category).toBe('mobile');
      }
    }, 60_000);
});

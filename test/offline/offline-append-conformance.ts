/**
 * One append conformance suite for every offline store (`OfflineStore.appendRecords`): exactly
 * once under replay (the same batch twice, overlapping batches, another origin), schema
 * evolution (unknown extra fields, missing nullable fields), late records (found by ingestion
 * time), and an export over appended records equal to the export over the same records loaded
 * in batch. Run by `offline-append.test.ts` (DuckDB) and `bigquery-append.services.test.ts`
 * (the emulator).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRepository } from '../../definitions/load.ts';
import type { Repository } from '../../definitions/repository.ts';
import type { BatchSourceSpec } from '../../definitions/spec.ts';
import type { AppendOrigin, ExportSummary } from '../../offline/offline-store.ts';
import { tempRepo } from '../support/temp-repo.ts';
import type { ConformanceHarness } from './conformance-harness.ts';
import { CONFORMANCE_REPO } from './conformance-repo.ts';

export interface AppendHarness extends ConformanceHarness {
  /** Every row stored for `source`, with the `_larder_*` columns. */
  readRows(source: BatchSourceSpec): Promise<Record<string, unknown>[]>;
}

const T0 = Date.UTC(2024, 0, 1);
const MIN = 60_000;
const T = T0 + 30 * MIN;

const rec = (i: number, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  id: `e${String(i).padStart(3, '0')}`,
  userId: i % 2 === 0 ? 'u1' : 'u2',
  kind: (['click', 'view', 'buy'] as const)[i % 3],
  amount: i + 0.5,
  attrs: { color: i % 2 === 0 ? "r'ed\\" : 'blue', price: String(i) },
  ts: T - i * MIN,
  ...extra,
});
const at = (from: number, to: number): { offset: number; record: Record<string, unknown> }[] =>
  Array.from({ length: to - from + 1 }, (_, k) => ({ offset: from + k, record: rec(from + k) }));
const stream = (partition: number): AppendOrigin => ({ kind: 'stream', topic: 'ev', partition });

/** Record id → how many rows hold it. */
function countIds(rows: Record<string, unknown>[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of rows) m.set(String(r.id), (m.get(String(r.id)) ?? 0) + 1);
  return m;
}

export function describeOfflineAppendConformance(
  name: string,
  factory: () => Promise<AppendHarness>,
): void {
  describe(`offline append conformance: ${name}`, () => {
    let h: AppendHarness;
    let repo: Repository;
    let repoDir: { dir: string; cleanup: () => void };
    let src: BatchSourceSpec;

    beforeAll(async () => {
      repoDir = tempRepo({ 'repo.ts': CONFORMANCE_REPO });
      repo = await loadRepository(repoDir.dir);
      src = repo.batchSources.get('ev')!.spec;
      h = await factory();
      await h.store.init();
    }, 60_000);

    afterAll(async () => {
      await h?.close();
      repoDir?.cleanup();
    });

    const exportAt = (): Promise<ExportSummary> =>
      h.store.exportPointInTime({
        repo,
        features: repo.resolveFeatures({ service: 'all' }),
        entities: {
          type: 'rows',
          rows: [
            { user_id: 'u1', event_timestamp: T },
            { user_id: 'u2', event_timestamp: T },
            { user_id: 'u1', event_timestamp: T - 20 * MIN },
          ],
        },
        out: { type: 'memory' },
      });

    it('declares the capability', () => {
      expect(h.store.capabilities.appendRecords).toBe(true);
    });

    it('exactly once: the same batch twice, overlapping batches, another origin', async () => {
      await h.writeSource(src, []);
      const a = await h.store.appendRecords({ source: src, origin: stream(0), records: at(0, 4) });
      expect(a).toMatchObject({ appended: 5, skipped: 0 });
      const again = await h.store.appendRecords({
        source: src,
        origin: stream(0),
        records: at(0, 4),
      });
      expect(again).toMatchObject({ appended: 0, skipped: 5 });
      const overlap = await h.store.appendRecords({
        source: src,
        origin: stream(0),
        records: at(3, 7),
      });
      expect(overlap).toMatchObject({ appended: 3, skipped: 2 });
      // Partition 1 counts its own offsets: offsets 0..1 are new there.
      const other = await h.store.appendRecords({
        source: src,
        origin: stream(1),
        records: [
          { offset: 0, record: rec(10) },
          { offset: 1, record: rec(11) },
        ],
      });
      expect(other).toMatchObject({ appended: 2, skipped: 0 });
      const rows = await h.readRows(src);
      expect(rows).toHaveLength(10);
      expect([...countIds(rows).values()].every((n) => n === 1)).toBe(true);
      const p0 = rows
        .filter((r) => r._larder_origin === 'kafka:ev:0')
        .map((r) => Number(r._larder_offset))
        .sort((x, y) => x - y);
      expect(p0).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      expect(
        rows.every(
          (r) =>
            typeof r._larder_ingested_at === 'number' || typeof r._larder_ingested_at === 'string',
        ),
      ).toBe(true);
    });

    it('a push id appends once, whatever its replays', async () => {
      await h.writeSource(src, []);
      const push = { kind: 'push', id: 'key-1' } as const;
      const records = [0, 1, 2].map((i) => ({ offset: i, record: rec(20 + i) }));
      expect(await h.store.appendRecords({ source: src, origin: push, records })).toMatchObject({
        appended: 3,
      });
      expect(await h.store.appendRecords({ source: src, origin: push, records })).toMatchObject({
        appended: 0,
        skipped: 3,
      });
      const rows = await h.readRows(src);
      expect(rows.map((r) => r.id).sort()).toEqual(['e020', 'e021', 'e022']);
      expect(rows.every((r) => r._larder_origin === 'push:key-1')).toBe(true);
    });

    it('the export over appended records equals the export over the same records in batch', async () => {
      const records = Array.from({ length: 12 }, (_, i) => rec(i));
      await h.writeSource(
        src,
        records.map((r) => JSON.stringify(r)),
      );
      const batch = await exportAt();
      expect(batch.data![0]!.n_1h).toBeGreaterThan(0);
      await h.writeSource(src, []);
      // Replays and overlaps, as a crashed worker's restart produces them.
      await h.store.appendRecords({ source: src, origin: stream(0), records: at(0, 6) });
      await h.store.appendRecords({ source: src, origin: stream(0), records: at(2, 4) });
      await h.store.appendRecords({ source: src, origin: stream(0), records: at(5, 11) });
      await h.store.appendRecords({ source: src, origin: stream(0), records: at(0, 11) });
      const appended = await exportAt();
      expect(appended.data).toEqual(batch.data);
      expect(appended.rejects.reduce((n, r) => n + r.count, 0)).toBe(0);
    });

    it('schema evolution: an unknown extra field is ignored, a missing nullable field is null', async () => {
      await h.writeSource(src, []);
      const withExtra = rec(0, { coupon: 'X1', attrs: { color: 'green', price: '7' } });
      const noUser = rec(2);
      delete noUser.userId;
      await h.store.appendRecords({
        source: src,
        origin: stream(0),
        records: [
          { offset: 0, record: withExtra },
          { offset: 1, record: noUser },
        ],
      });
      const rows = await h.readRows(src);
      const byId = new Map(rows.map((r) => [String(r.id), r]));
      expect(byId.get('e000')!.userId).toBe('u1');
      expect(byId.get('e002')!.userId ?? null).toBeNull();
      const got = await exportAt();
      // u1 at T: only e000 (e002 has no user); the extra field changes nothing.
      expect(got.data![0]).toMatchObject({ n_1h: 1, color: 'green', price: 7 });
      expect(got.rejects.reduce((n, r) => n + r.count, 0)).toBe(0);
    });

    it('late records keep their event time and are found by ingestion time', async () => {
      await h.writeSource(src, []);
      await h.store.appendRecords({ source: src, origin: stream(0), records: at(0, 1) });
      const since = Date.now();
      await new Promise((r) => setTimeout(r, 5));
      // Offset 2 arrives late: its event is 40 minutes older than what came before.
      const late = rec(40);
      await h.store.appendRecords({
        source: src,
        origin: stream(0),
        records: [{ offset: 2, record: late }],
      });
      expect(await h.store.earliestAppendedSince(src, since)).toBe(late.ts);
      expect(await h.store.earliestAppendedSince(src, Date.now() + 60_000)).toBeNull();
      const never = { ...src, path: 'raw/never', bigqueryTable: 'never' };
      expect(await h.store.earliestAppendedSince(never, since)).toBeNull();
      const rows = await h.readRows(src);
      expect(rows.find((r) => r.id === 'e040')!.ts).toBe(late.ts);
      const got = await exportAt();
      // u1 at T - 20m: the 1h window [T - 80m, T - 20m] holds e040 (T - 40m), not e000 (T).
      expect(got.data![2]).toMatchObject({ n_1h: 1, sum_1h: 40.5 });
    });
  });
}

/**
 * `sourceStatistics` conformance (STYLE.md §12): one small history with exact expected
 * statistics, run against every offline store that has the capability (DuckDB in
 * source-statistics.test.ts, the BigQuery emulator in bigquery-emulator.services.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRepository } from '../../definitions/load.ts';
import type { Repository } from '../../definitions/repository.ts';
import type { BatchSourceSpec } from '../../definitions/spec.ts';
import { STATISTICS_QUANTILES } from '../../offline/offline-store.ts';
import { tempRepo } from '../support/temp-repo.ts';
import type { ConformanceHarness } from './conformance-harness.ts';
import { CONFORMANCE_REPO } from './conformance-repo.ts';

const T0 = Date.UTC(2024, 0, 1);
const HOUR = 3_600_000;
const DAY = 86_400_000;

const ev = (id: string, userId: string | null, kind: string, amount: number, ts: number): string =>
  JSON.stringify({ id, userId, kind, amount, attrs: {}, ts });

export function describeSourceStatisticsConformance(
  name: string,
  factory: () => Promise<ConformanceHarness>,
): void {
  describe(`source statistics conformance: ${name}`, () => {
    let h: ConformanceHarness;
    let repo: Repository;
    let src: BatchSourceSpec;
    let dir: { cleanup: () => void };

    beforeAll(async () => {
      const r = tempRepo({ 'repo.ts': CONFORMANCE_REPO });
      dir = r;
      repo = await loadRepository(r.dir);
      src = repo.batchSources.get('ev')!.spec;
      h = await factory();
      await h.store.init();
    }, 60_000);
    afterAll(async () => {
      await h?.close();
      dir?.cleanup();
    });

    it('rows, nulls, distinct, top values, allowed, min/max/mean, histogram, periods, rejects', async () => {
      expect(h.store.capabilities.sourceStatistics).toBe(true);
      const lines = [
        ev('e1', 'u1', 'click', 1, T0 + HOUR),
        ev('e2', 'u1', 'view', 2, T0 + 2 * HOUR),
        ev('e3', null, 'view', 3, T0 + 3 * HOUR),
        ev('e4', 'u2', 'buy', 10, T0 + DAY + HOUR),
        ev('e5', 'u2', 'click', 4, T0 + 2 * DAY + 5), // after the range
      ];
      if (h.rawFiles) lines.push(ev('bad', 'u3', 'nope', 1, T0 + HOUR), '{not json');
      await h.writeSource(src, lines);
      const s = await h.store.sourceStatistics!({
        repo,
        source: 'ev',
        start: T0,
        end: T0 + 2 * DAY,
        fields: [
          { name: 'userId' },
          { name: 'kind', allowed: ['click', 'view'] },
          { name: 'amount' },
        ],
        periodMs: DAY,
        bins: 4,
      });
      expect(s).toMatchObject({
        source: 'ev',
        rows: 4,
        sourceRows: 5,
        rejected: h.rawFiles ? 2 : 0,
        oldestEventMs: T0 + HOUR,
        newestEventMs: T0 + DAY + HOUR,
        periods: [
          { start: T0, rows: 3 },
          { start: T0 + DAY, rows: 1 },
        ],
      });
      if (h.rawFiles) {
        expect(s.rejects.map((r) => r.count)).toEqual([1, 1]);
        expect(s.rejects.some((r) => r.reason === 'invalid JSON')).toBe(true);
      } else expect(s.rejects).toEqual([]);
      const [user, kind, amount] = s.fields;
      expect(user).toMatchObject({
        name: 'userId',
        type: 'string',
        rows: 4,
        nulls: 1,
        distinct: 2,
      });
      expect(user!.top).toEqual([
        { value: 'u1', count: 2 },
        { value: 'u2', count: 1 },
      ]);
      expect(user!.min).toBeNull();
      expect(kind).toMatchObject({ nulls: 0, distinct: 3, notAllowed: 1 });
      expect(kind!.top).toEqual([
        { value: 'view', count: 2 },
        { value: 'buy', count: 1 },
        { value: 'click', count: 1 },
      ]);
      expect(amount).toMatchObject({ type: 'float64', nulls: 0, distinct: 4, min: 1, max: 10 });
      expect(amount!.mean).toBeCloseTo(4, 9);
      expect(amount!.histogram).toEqual([
        { lo: 1, hi: 3.25, count: 3 },
        { lo: 3.25, hi: 5.5, count: 0 },
        { lo: 5.5, hi: 7.75, count: 0 },
        { lo: 7.75, hi: 10, count: 1 },
      ]);
      // Quantiles are values of the data, in order (BigQuery's are approximate).
      expect(amount!.quantiles.map((q) => q.q)).toEqual([...STATISTICS_QUANTILES]);
      const qs = amount!.quantiles.map((q) => q.value);
      for (const v of qs) expect([1, 2, 3, 10]).toContain(v);
      expect([...qs].sort((a, b) => a - b)).toEqual(qs);
      expect(amount!.top).toEqual([]);
    });

    it('records later than now + ingest.maxFutureSkew or outside JavaScript dates: rejects by reason, on every store', async () => {
      const ahead = Math.floor((Date.now() + 366 * DAY) / HOUR) * HOUR;
      await h.writeSource(src, [
        ev('e1', 'u1', 'click', 1, T0 + HOUR),
        ev('e2', 'u1', 'view', 2, ahead),
        ev('e3', 'u2', 'view', 3, ahead),
        ev('e4', 'u2', 'buy', 4, -9e15),
      ]);
      const s = await h.store.sourceStatistics!({
        repo,
        source: 'ev',
        start: T0,
        end: ahead + DAY,
        fields: [{ name: 'amount' }],
      });
      expect(s).toMatchObject({ rows: 1, sourceRows: 1, rejected: 3, newestEventMs: T0 + HOUR });
      expect(s.rejects.map((r) => r.count)).toEqual([2, 1]);
      expect(s.rejects[0]!.reason).toMatch(
        new RegExp(
          `^field "ts": ${ahead} is later than now \\+ 5m \\(\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\); raise ingest\\.maxFutureSkew if clocks differ more$`,
        ),
      );
      expect(s.rejects[1]!.reason).toBe(
        `field "ts": -9000000000000000 is outside JavaScript's date range (±8.64e15 ms)`,
      );
      expect(s.fields[0]).toMatchObject({ rows: 1, min: 1, max: 1 });
    });

    it('an empty range: zero rows, null extremes, zero-filled periods', async () => {
      await h.writeSource(src, [ev('e1', 'u1', 'click', 1, T0 + HOUR)]);
      const s = await h.store.sourceStatistics!({
        repo,
        source: 'ev',
        start: T0 + DAY,
        end: T0 + 3 * DAY,
        fields: [{ name: 'amount' }, { name: 'userId', allowed: ['u1'] }],
        periodMs: DAY,
      });
      expect(s).toMatchObject({ rows: 0, sourceRows: 1, oldestEventMs: null, newestEventMs: null });
      expect(s.periods).toEqual([
        { start: T0 + DAY, rows: 0 },
        { start: T0 + 2 * DAY, rows: 0 },
      ]);
      expect(s.fields[0]).toMatchObject({ rows: 0, nulls: 0, min: null, max: null, mean: null });
      expect(s.fields[0]!.histogram).toEqual([]);
      expect(s.fields[1]).toMatchObject({ notAllowed: 0, top: [] });
    });

    it('an unknown source is LARDER_NOT_FOUND', async () => {
      await expect(
        h.store.sourceStatistics!({ repo, source: 'nope', start: 0, end: 1, fields: [] }),
      ).rejects.toMatchObject({ code: 'LARDER_NOT_FOUND' });
    });
  });
}

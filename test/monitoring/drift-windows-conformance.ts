/**
 * `larder drift` over windows of offline values (STYLE.md §12): the same small history on every
 * offline store (DuckDB in drift-windows.test.ts, the BigQuery emulator in
 * drift-windows.services.test.ts). Four users; each one's amount and kind are set an hour before
 * each window, so every grid time of a window reads the same values: amounts 1–4 and kind
 * `click` in the reference window, 101–104 and `view` / `click` in the current one. The view
 * declares drift bounds on `last_amount` (its expectation wins over the thresholds given), and
 * has a list feature (not compared).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRepository } from '../../definitions/load.ts';
import type { Repository } from '../../definitions/repository.ts';
import { driftReport, featureDrift } from '../../monitoring/drift.ts';
import type { ConformanceHarness } from '../offline/conformance-harness.ts';
import { tempRepo } from '../support/temp-repo.ts';

export const DRIFT_REPO = `
import { z } from 'zod';
import { batchSource, col, count, entity, featureService, featureView, last, lastN } from 'larder';
export const user = entity({ name: 'user', joinKey: 'user_id' });
export const ev = batchSource({
  name: 'ev',
  path: 'raw/ev',
  bigqueryTable: 'ev',
  schema: z.object({ id: z.string(), userId: z.string(), kind: z.string(), amount: z.number(), ts: z.number().int() }),
  timestampField: 'ts',
  idField: 'id',
});
export const latest = featureView({
  name: 'latest', entities: [user], source: ev, keys: { user_id: col('userId') }, ttl: '30d',
  features: {
    last_amount: last(col('amount')),
    last_kind: last(col('kind')),
    n_1d: count({ window: '1d' }),
    kinds: lastN(col('kind'), { n: 2, window: '7d' }),
  },
  expect: { last_amount: { drift: { maxPsi: 100, minPValue: 1e-9 } } },
});
export const svc = featureService({ name: 'svc', features: [latest] });
`;

export const T0 = Date.UTC(2024, 0, 1);
export const HOUR = 3_600_000;
export const DAY = 86_400_000;
const USERS = ['u1', 'u2', 'u3', 'u4'];

/** The history, as JSON Lines of the source `ev`. */
export const driftHistory = (): string[] =>
  USERS.flatMap((u, i) => [
    JSON.stringify({ id: `a-${u}`, userId: u, kind: 'click', amount: i + 1, ts: T0 - HOUR }),
    JSON.stringify({
      id: `b-${u}`,
      userId: u,
      kind: i < 2 ? 'view' : 'click',
      amount: 101 + i,
      ts: T0 + DAY - HOUR,
    }),
  ]);

export function describeDriftWindowsConformance(
  name: string,
  factory: () => Promise<ConformanceHarness>,
): void {
  describe(`drift over offline windows: ${name}`, () => {
    let h: ConformanceHarness;
    let repo: Repository;
    let dir: { dir: string; cleanup: () => void };

    beforeAll(async () => {
      dir = tempRepo({ 'repo.ts': DRIFT_REPO });
      repo = await loadRepository(dir.dir);
      h = await factory();
      await h.store.init();
      const lines = driftHistory();
      await h.writeSource(repo.batchSources.get('ev')!.spec, lines);
    }, 60_000);
    afterAll(async () => {
      await h?.close();
      dir?.cleanup();
    });

    it('compares two windows of offline values on the grid; expectations bound their features', async () => {
      const r = await driftReport({
        config: { dataDir: '/nonexistent' },
        repo,
        service: 'svc',
        offline: h.store,
        // Grid times T0, T0+1h, T0+2h, T0+3h (and the same a day later): 4 users × 4 times.
        reference: { type: 'offline', start: T0, end: T0 + 4 * HOUR, everyMs: HOUR },
        current: { type: 'offline', start: T0 + DAY, end: T0 + DAY + 4 * HOUR, everyMs: HOUR },
      });
      expect(r.reference).toEqual({
        type: 'offline',
        start: new Date(T0).toISOString(),
        end: new Date(T0 + 4 * HOUR).toISOString(),
        every: '1h',
      });
      expect(r.thresholds).toEqual({ psi: 0.2, p: 0.01 });
      expect(r.skipped).toEqual([{ feature: 'kinds', reason: 'list features are not compared' }]);
      const by = Object.fromEntries(r.features.map((f) => [f.feature, f]));
      const times = 4;
      const ref = USERS.flatMap((_, i) => Array.from({ length: times }, () => i + 1));
      const cur = USERS.flatMap((_, i) => Array.from({ length: times }, () => 101 + i));
      // Every value is shifted: KS D = 1. The expectation's bounds (PSI > 100, p < 1e-9) win
      // over the defaults (0.2, 0.01), so this shift is not drift.
      const amount = featureDrift(
        'last_amount',
        'numeric',
        ref,
        cur,
        { psi: 100, p: 1e-9 },
        {
          psi: 'expect',
          p: 'expect',
        },
      );
      expect(by.last_amount).toMatchObject({
        referenceCount: 16,
        currentCount: 16,
        statistic: 1,
        thresholds: { psi: 100, p: 1e-9 },
        thresholdSource: { psi: 'expect', p: 'expect' },
        drifted: false,
      });
      expect(by.last_amount!.psi).toBeCloseTo(amount.psi, 12);
      expect(by.last_amount!.pValue).toBeCloseTo(amount.pValue, 15);
      expect(by.last_amount!.pValue).toBeLessThan(0.01);
      expect(by.last_amount!.psi).toBeGreaterThan(0.2);
      // Half the users changed kind: drift by the default bounds.
      const kinds = featureDrift(
        'last_kind',
        'categorical',
        Array.from({ length: 16 }, () => 'click'),
        USERS.flatMap((_, i) => Array.from({ length: times }, () => (i < 2 ? 'view' : 'click'))),
      );
      expect(by.last_kind).toMatchObject({
        test: 'chi_square',
        referenceCount: 16,
        currentCount: 16,
        thresholdSource: { psi: 'flag', p: 'flag' },
        drifted: true,
      });
      expect(by.last_kind!.psi).toBeCloseTo(kinds.psi, 12);
      expect(by.last_kind!.pValue).toBeCloseTo(kinds.pValue, 15);
      // One event in the last day at every grid time of both windows: no drift.
      expect(by.n_1d).toMatchObject({ psi: 0, statistic: 0, pValue: 1, drifted: false });
    });
  });
}

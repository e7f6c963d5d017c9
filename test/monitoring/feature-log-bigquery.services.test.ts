/**
 * Feature logging to BigQuery and `larder skew` on BigQuery, on the local emulator: a service
 * logging to `'bigquery'` has its served rows in `<dataset>.larder_feature_log` (created on the
 * first write), and the skew report reads them from there and recomputes them on the BigQuery
 * offline store — events pushed to the online store only show as the one differing row.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../config/config.ts';
import { openFeatureLog } from '../../monitoring/open-feature-log.ts';
import { skewReport } from '../../monitoring/skew.ts';
import { BigQueryOfflineStore } from '../../offline/bigquery/bigquery-offline-store.ts';
import { PUSH_REPO, serveRepo, T0, type Served } from '../api/serve-fixture.ts';
import {
  BQ_EMULATOR_BIN,
  bqEmulatorAvailable,
  startBqEmulator,
  type BqEmulator,
} from '../offline/bq-emulator-support.ts';
import { tempDir, tempRepo } from '../support/temp-repo.ts';

const REPO =
  PUSH_REPO.replace('import { pushSource,', 'import { featureService, pushSource,') +
  `
export const logged = featureService({
  name: 'logged', features: [activity], logging: { destination: ['bigquery', 'parquet'] },
});
`;

if (!bqEmulatorAvailable) {
  it.skip(`feature log in BigQuery — skipped: ${BQ_EMULATOR_BIN} not found (run: bash scripts/bqemu.sh install)`, () => {});
} else {
  describe('feature logging to BigQuery and skew on BigQuery (emulator)', () => {
    const repo = tempRepo({ 'features.ts': REPO });
    const tmp = tempDir();
    let emu: BqEmulator;
    let s: Served;
    const store = () =>
      ({
        type: 'bigquery',
        project: emu.project,
        dataset: emu.dataset,
        apiEndpoint: emu.endpoint,
        entityUpload: 'insert',
      }) as const;
    const config = () =>
      resolveConfig(
        { home: tmp.dir, dataDir: join(tmp.dir, 'data'), repo: repo.dir, offlineStore: store() },
        tmp.dir,
        {},
      );

    const push = async (df: Record<string, unknown[]>, to: string): Promise<void> => {
      const r = await s.app.inject({
        method: 'POST',
        url: '/push',
        payload: { push_source_name: 'events_push', df, to },
      });
      expect(r.statusCode, r.body).toBe(200);
    };

    beforeAll(async () => {
      emu = await startBqEmulator();
      const offline = new BigQueryOfflineStore({ ...store(), home: tmp.dir });
      s = await serveRepo(repo.dir, { offline });
      s.ctx.featureLog = openFeatureLog(config(), s.ctx.metrics, (e) => {
        throw e;
      });
      // u1's events reach both stores; u2's only the online store.
      await push(
        {
          id: ['a', 'b'],
          userId: ['u1', 'u1'],
          kind: ['click', 'view'],
          amount: [2.5, 4],
          ts: [T0 - 60_000, T0 - 30_000],
        },
        'online_and_offline',
      );
      await push(
        { id: ['c'], userId: ['u2'], kind: ['click'], amount: [10], ts: [T0 - 20_000] },
        'online',
      );
      const r = await s.app.inject({
        method: 'POST',
        url: '/get-online-features',
        payload: { feature_service: 'logged', entities: { user_id: ['u1', 'u2'] } },
      });
      expect(r.statusCode, r.body).toBe(200);
      await s.ctx.featureLog.drain();
    }, 120_000);
    afterAll(async () => {
      await s?.close();
      emu?.stop();
      repo.cleanup();
      tmp.cleanup();
    });

    it('writes the served rows to <dataset>.larder_feature_log, created on first use', async () => {
      const [rows] = await emu.bq.query({
        query: `SELECT request_id, service, UNIX_MILLIS(ts) AS t, \`row\`, entities, features, statuses, model, arm, score
                FROM \`${emu.project}.${emu.dataset}.larder_feature_log\` ORDER BY \`row\``,
      });
      expect(rows).toHaveLength(2);
      expect(rows[0].request_id).toBe(rows[1].request_id);
      expect(
        rows.map((r: Record<string, unknown>) => [
          r.service,
          r.t,
          r.row,
          JSON.parse(r.entities as string),
          JSON.parse(r.features as string),
          r.model,
          r.arm,
          r.score,
        ]),
      ).toEqual([
        [
          'logged',
          T0,
          0,
          { user_id: 'u1' },
          { clicks_1h: 1, spend_7d: 6.5, last_kind: 'view' },
          null,
          null,
          null,
        ],
        [
          'logged',
          T0,
          1,
          { user_id: 'u2' },
          { clicks_1h: 1, spend_7d: 10, last_kind: 'click' },
          null,
          null,
          null,
        ],
      ]);
      expect(JSON.parse(rows[1].statuses as string)).toEqual({
        clicks_1h: 'PRESENT',
        spend_7d: 'PRESENT',
        last_kind: 'PRESENT',
      });
      const metrics = await s.ctx.metrics.registry.metrics();
      expect(metrics).toContain(
        'larder_feature_log_rows_total{destination="bigquery",result="written"} 2',
      );
      expect(metrics).toContain(
        'larder_feature_log_rows_total{destination="parquet",result="written"} 2',
      );
    });

    it('skew reads the log table and recomputes on BigQuery: the online-only row differs', async () => {
      // The service logs to Parquet too: without the files, the rows can only come from BigQuery.
      const files = join(tmp.dir, 'data', 'logs', 'logged');
      expect(existsSync(files)).toBe(true);
      rmSync(files, { recursive: true });
      const report = await skewReport({
        config: config(),
        repo: s.repo,
        service: 'logged',
        start: T0 - 1,
        end: T0 + 1,
      });
      expect(report.rows).toBe(2);
      expect(report.features.map((f) => [f.feature, f.compared, f.differing])).toEqual([
        ['clicks_1h', 2, 1],
        ['spend_7d', 2, 1],
        ['last_kind', 2, 1],
      ]);
      expect(
        report.features.map((f) =>
          f.examples.map((x) => [x.entities.user_id, x.served, x.offline]),
        ),
      ).toEqual([[['u2', 1, 0]], [['u2', 10, 0]], [['u2', 'click', null]]]);
      const empty = await skewReport({
        config: config(),
        repo: s.repo,
        service: 'logged',
        start: T0 + 1,
        end: T0 + 60_000,
      });
      expect(empty).toMatchObject({ rows: 0, features: [] });
    });
  });
}

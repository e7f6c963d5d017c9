/**
 * `POST /push` with `to: offline` / `online_and_offline` on the BigQuery store (the local
 * emulator): rows land in the batch source's table through the append path, a replayed
 * Idempotency-Key appends nothing, and a push without a key appends each time it is received.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BigQueryOfflineStore } from '../../offline/bigquery/bigquery-offline-store.ts';
import {
  BQ_EMULATOR_BIN,
  bqEmulatorAvailable,
  startBqEmulator,
  type BqEmulator,
} from '../offline/bq-emulator-support.ts';
import { tempDir, tempRepo } from '../support/temp-repo.ts';
import { PUSH_REPO, serveRepo, T0, type Served } from './serve-fixture.ts';

if (!bqEmulatorAvailable) {
  it.skip(`push to BigQuery — skipped: ${BQ_EMULATOR_BIN} not found (run: bash scripts/bqemu.sh install)`, () => {});
} else {
  describe('POST /push into the BigQuery offline store (emulator)', () => {
    const repo = tempRepo({ 'repo.ts': PUSH_REPO });
    const tmp = tempDir();
    let emu: BqEmulator;
    let served: Served;

    beforeAll(async () => {
      emu = await startBqEmulator();
      const offline = new BigQueryOfflineStore({
        type: 'bigquery',
        project: emu.project,
        dataset: emu.dataset,
        apiEndpoint: emu.endpoint,
        home: tmp.dir,
      });
      served = await serveRepo(repo.dir, { offline });
    }, 60_000);
    afterAll(async () => {
      await served?.close();
      emu?.stop();
      repo.cleanup();
      tmp.cleanup();
    });

    const rows = async (): Promise<Record<string, unknown>[]> => {
      const [r] = await emu.bq.query({
        query: `SELECT * FROM \`${emu.project}.${emu.dataset}.events\` ORDER BY id`,
      });
      return r as Record<string, unknown>[];
    };
    const body = (ids: string[], to: string) => ({
      push_source_name: 'events_push',
      df: {
        id: ids,
        userId: ids.map(() => 'u1'),
        kind: ids.map(() => 'click'),
        amount: ids.map((_, i) => i + 1),
        ts: ids.map((_, i) => T0 - 1000 * (i + 1)),
      },
      to,
    });

    it('appends to the table (created on first use) once per Idempotency-Key', async () => {
      const headers = { 'idempotency-key': 'bq-1' };
      const payload = body(['p1', 'p2'], 'online_and_offline');
      const r1 = await served.app.inject({ method: 'POST', url: '/push', payload, headers });
      expect(r1.statusCode).toBe(200);
      expect(r1.json()).toMatchObject({
        rows: 2,
        file: `${emu.project}.${emu.dataset}.events`,
      });
      const r2 = await served.app.inject({ method: 'POST', url: '/push', payload, headers });
      expect(r2.headers['idempotent-replayed']).toBe('true');
      expect(r2.body).toBe(r1.body);
      const got = await rows();
      expect(got.map((r) => r.id)).toEqual(['p1', 'p2']);
      expect(got.map((r) => r._larder_offset)).toEqual([0, 1]);
      expect(new Set(got.map((r) => r._larder_origin)).size).toBe(1);
      expect(String(got[0]!._larder_origin)).toMatch(/^push:[0-9a-f-]{36}$/);
      expect(got[0]!._larder_ingested_at).toBe(T0);
    });

    it('a push without a key is appended each time it is received', async () => {
      const payload = body(['p3'], 'offline');
      for (let i = 0; i < 2; i++) {
        const r = await served.app.inject({ method: 'POST', url: '/push', payload });
        expect(r.statusCode).toBe(200);
        expect(r.json()).toMatchObject({ rows: 1, views: [] });
      }
      expect((await rows()).filter((r) => r.id === 'p3')).toHaveLength(2);
    });
  });
}

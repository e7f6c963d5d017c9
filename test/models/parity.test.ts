/**
 * Training/serving parity: the committed ranker_v1 scored through `POST /v1/models/ranker_v1/rank`
 * gives the same scores as onnxruntime on the feature vectors `larder export` produces for the
 * same (user, product, time) rows — the vectors the model was trained on.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { genData } from '../../examples/ecommerce/datagen/index.ts';
import { materialize } from '../../materialize/materialize.ts';
import { encodeInputs } from '../../models/input-encoding.ts';
import { loadModelSet } from '../../models/model-set.ts';
import { DuckDBOfflineStore } from '../../offline/duckdb/duckdb-offline-store.ts';
import { DAY_MS, MINUTE_MS } from '../../core/duration.ts';
import { serveRepo, T0, type Served } from '../api/serve-fixture.ts';
import { historyUpTo } from '../support/history.ts';

const USERS = ['u00001', 'u00004', 'u00007', 'u-never'];
const CANDIDATES = Array.from({ length: 20 }, (_, i) => `p${String(i).padStart(5, '0')}`).concat(
  'p-never',
);

let served: Served;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'larder-parity-'));
  // T0 (the served time) falls a day before the end of the history, off any hop boundary.
  await genData({
    users: 12,
    products: 20,
    days: 9,
    events: 8_000,
    seed: 9,
    end: T0 + DAY_MS + 7 * MINUTE_MS + 1234,
    outDir: dir,
    format: 'jsonl',
  });
  served = await serveRepo('examples/ecommerce/features');
  const offline = new DuckDBOfflineStore({ type: 'duckdb', dataDir: dir, home: dir });
  await offline.init();
  await materialize({ repo: served.repo, offline, online: served.store, end: T0 });
  await offline.close();
  const snap = served.ctx.state.current;
  served.ctx.state.swap({ ...snap, models: await loadModelSet(served.repo) });
}, 120_000);

afterAll(async () => {
  await served?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('ranker_v1 training/serving parity', () => {
  it('scores through /rank equal onnxruntime on the exported training vectors', async () => {
    const model = served.repo.models.get('ranker_v1')!.spec;
    const cut = new DuckDBOfflineStore({
      type: 'duckdb',
      dataDir: await historyUpTo(dir, T0),
      home: dir,
    });
    await cut.init();
    const rows = USERS.flatMap((u) =>
      CANDIDATES.map((p) => ({ user_id: u, product_id: p, event_timestamp: T0 })),
    );
    const exported = await cut.exportPointInTime({
      repo: served.repo,
      features: served.repo.resolveFeatures({ service: 'recommendation_v1' }),
      entities: { type: 'rows', rows },
      out: { type: 'memory' },
      fullFeatureNames: true,
    });
    await cut.close();
    const columns = model.inputs.map((i) =>
      exported.data!.map((r) => r[i.feature.replace(':', '__')] ?? null),
    );
    const enc = encodeInputs(model, columns, rows.length);
    const session = await ort.InferenceSession.create(join(served.repo.root, model.path));
    const out = await session.run({
      input: new ort.Tensor('float32', enc.data, [rows.length, enc.width]),
    });
    const probs = out.probabilities!.data as Float32Array;
    await session.release();

    let compared = 0;
    for (const [u, user] of USERS.entries()) {
      const res = await served.app.inject({
        method: 'POST',
        url: '/v1/models/ranker_v1/rank',
        payload: { user_id: user, candidates: CANDIDATES },
      });
      expect(res.statusCode).toBe(200);
      const body = res.json() as {
        model: string;
        version: string;
        arm: null;
        items: { product_id: string; score: number; missing_features: string[] }[];
      };
      expect(body).toMatchObject({ model: 'ranker_v1', version: '1', arm: null });
      expect(body.items).toHaveLength(CANDIDATES.length);
      for (const item of body.items) {
        const i = u * CANDIDATES.length + CANDIDATES.indexOf(item.product_id);
        expect(item.score).toBeCloseTo(probs[i * 2 + 1]!, 6);
        compared++;
      }
      const scores = body.items.map((x) => x.score);
      expect(scores).toEqual([...scores].sort((a, b) => b - a));
      expect(body.items.find((x) => x.product_id === 'p-never')!.missing_features).toContain(
        'product_catalog:price',
      );
    }
    expect(compared).toBe(USERS.length * CANDIDATES.length);
    // Scores actually vary: the features reach the model.
    expect(new Set([...probs].map((p) => p.toFixed(4))).size).toBeGreaterThan(20);
  });
});

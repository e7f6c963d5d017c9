import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assignArm } from '../../models/experiment-router.ts';
import { loadModelSet } from '../../models/model-set.ts';
import { columns, EVENTS } from '../api/ecommerce-data.ts';
import { serveRepo, type Served } from '../api/serve-fixture.ts';

let s: Served;
const post = (url: string, payload: unknown) =>
  s.app.inject({ method: 'POST', url, payload: payload as object });

beforeAll(async () => {
  s = await serveRepo('examples/ecommerce/features');
  const snap = s.ctx.state.current;
  s.ctx.state.swap({ ...snap, models: await loadModelSet(s.repo) });
  const push = await post('/push', {
    push_source_name: 'user_events',
    df: columns(EVENTS),
    to: 'online',
  });
  expect(push.statusCode).toBe(200);
});
afterAll(async () => s?.close());

describe('model endpoints', () => {
  it('ranks candidates, best first, with top_k, model and version', async () => {
    const res = await post('/v1/models/ranker_v1/rank', {
      user_id: 'u1',
      candidates: ['p1', 'p2', 'p3', 'p9'],
      top_k: 2,
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ model: 'ranker_v1', version: '1', arm: null, experiment: null });
    expect(body.items).toHaveLength(2);
    // The two best of all four candidates, best first: rank them all and compare.
    const all = (
      await post('/v1/models/ranker_v1/rank', {
        user_id: 'u1',
        candidates: ['p1', 'p2', 'p3', 'p9'],
      })
    ).json().items as { product_id: string; score: number }[];
    expect(all).toHaveLength(4);
    const best = [...all].sort((a, b) => b.score - a.score);
    expect(all.map((i) => i.score)).toEqual(best.map((i) => i.score));
    expect(body.items.map((i: { score: number }) => i.score)).toEqual(
      best.slice(0, 2).map((i) => i.score),
    );
    expect(body.timing_ms.features).toBeGreaterThanOrEqual(0);
  });

  it('flags candidates without feature rows and scores them with fill values', async () => {
    const res = await post('/v1/models/ranker_v1/rank', {
      user_id: 'u1',
      candidates: ['p-unknown'],
    });
    const item = res.json().items[0];
    expect(item.product_id).toBe('p-unknown');
    expect(item.missing_features).toEqual(
      expect.arrayContaining(['product_catalog:price', 'product_catalog:category']),
    );
    expect(Number.isFinite(item.score)).toBe(true);
  });

  it('predicts one score per column-wise entity row', async () => {
    const res = await post('/v1/models/ranker_lr/predict', {
      entities: { user_id: ['u1', 'u1', 'nobody'], product_id: ['p1', 'p2', 'p1'] },
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.model).toBe('ranker_lr');
    expect(body.scores).toHaveLength(3);
    // Probabilities, and each row's own: the same as predicting that row alone.
    body.scores.forEach((x: number) => {
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThanOrEqual(1);
    });
    const rows = [
      ['u1', 'p1'],
      ['u1', 'p2'],
      ['nobody', 'p1'],
    ];
    for (const [i, [user, product]] of rows.entries()) {
      const one = await post('/v1/models/ranker_lr/predict', {
        entities: { user_id: [user], product_id: [product] },
      });
      expect(one.json().scores).toEqual([body.scores[i]]);
    }
    expect(body.missing[2]).toBe(true);
  });

  it('routes an experiment by a sticky hash of the user and counts the arm', async () => {
    const exp = s.repo.experiments.get('ranker_ab')!.spec;
    for (const user of ['u1', 'u2', 'u3', 'u4', 'u5', 'u6']) {
      const a = (
        await post('/v1/experiments/ranker_ab/rank', { user_id: user, candidates: ['p1', 'p2'] })
      ).json();
      const b = (
        await post('/v1/experiments/ranker_ab/rank', { user_id: user, candidates: ['p2', 'p1'] })
      ).json();
      const arm = assignArm(exp, user);
      expect(a).toMatchObject({ experiment: 'ranker_ab', arm: arm.name, model: arm.model });
      expect(b.arm).toBe(a.arm);
    }
    const metrics = (await s.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(
      /larder_experiment_assignments_total\{experiment="ranker_ab",arm="control"\} \d+/,
    );
    expect(metrics).toContain('larder_model_inference_duration_seconds_bucket');
  });

  it('answers bad requests with 400 naming the field, unknown models with 404', async () => {
    const cases: [string, unknown, number, string][] = [
      ['/v1/models/nope/rank', { user_id: 'u1', candidates: ['p1'] }, 404, 'unknown model "nope"'],
      [
        '/v1/experiments/nope/rank',
        { user_id: 'u1', candidates: ['p1'] },
        404,
        'unknown experiment "nope"',
      ],
      ['/v1/models/ranker_v1/rank', { user_id: 'u1', candidates: [] }, 400, 'candidates'],
      [
        '/v1/models/ranker_v1/rank',
        { user_id: 'u1', candidates: ['p1', 'p1'] },
        400,
        'candidates: duplicate product ids',
      ],
      ['/v1/models/ranker_v1/rank', { user_id: 'u1', candidates: [7] }, 400, 'candidates.0'],
      ['/v1/models/ranker_v1/rank', { candidates: ['p1'] }, 400, 'user_id'],
      ['/v1/models/ranker_v1/rank', { user_id: 'u1', candidates: ['p1'], top_k: 0 }, 400, 'top_k'],
      [
        '/v1/models/ranker_v1/predict',
        { entities: { user_id: ['u1'], product_id: ['p1', 'p2'] } },
        400,
        'ragged entity columns',
      ],
    ];
    for (const [url, body, status, text] of cases) {
      const res = await post(url, body);
      expect(res.statusCode, `${url} ${JSON.stringify(body)}`).toBe(status);
      expect(res.json().error.message).toContain(text);
    }
  });
});

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOUR_MS, MINUTE_MS } from '../../core/duration.ts';
import { nextRegistry, setWatermarks, writeRegistry } from '../../registry/registry-file.ts';
import { serveRepo, T0, type Served } from '../api/serve-fixture.ts';
import { UI_PUSH } from './ui-data.ts';

let s: Served;
let metricsServer: Server;
let metricsBody = '';
const get = async (url: string) => {
  const res = await s.app.inject({ method: 'GET', url });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
};

beforeAll(async () => {
  s = await serveRepo('examples/ecommerce/features');
  writeRegistry(s.home, nextRegistry(null, s.repo.specs(), s.repo.root));
  await setWatermarks(s.home, { user_purchases: T0 - 2 * HOUR_MS });
  const push = await s.app.inject({ method: 'POST', url: '/push', payload: UI_PUSH });
  expect(push.statusCode, push.body).toBe(200);
  metricsServer = createServer((_req, res) => res.end(metricsBody));
  await new Promise<void>((r) => metricsServer.listen(0, '127.0.0.1', r));
});
afterAll(async () => {
  metricsServer?.close();
  await s?.close();
});

describe('/ui/api', () => {
  it('registry: views with their features, services, models and the lineage', async () => {
    const r = await get('/ui/api/registry');
    expect(r.version).toBe(1);
    const ua = r.featureViews.find((v: { name: string }) => v.name === 'user_activity');
    expect(ua).toMatchObject({
      entities: ['user'],
      source: 'user_events',
      ttlMs: 30 * 24 * HOUR_MS,
    });
    expect(ua.features).toContainEqual({
      name: 'page_views_1h',
      type: 'int64',
      aggregation: 'count',
      windowMs: HOUR_MS,
      hopMs: MINUTE_MS,
      description: '',
    });
    // The example's expectations (docs/monitoring.md), in words.
    expect(r.sources.find((x: { name: string }) => x.name === 'user_events_batch').expect).toEqual([
      'eventId: not null',
      'sessionId: not null',
      'eventType: one of "page_view", "click", "purchase", "add_to_cart", "search"',
      'userId: not null',
      'reject rate ≤ 1%',
      'newest event ≤ 1d old',
    ]);
    expect(r.services.map((x: { name: string }) => x.name)).toEqual([
      'batch_v1',
      'recommendation_v1',
      'recommendation_v2',
      'risk_v1',
    ]);
    expect(r.services.map((x: { features: number }) => x.features)).toEqual([6, 26, 38, 11]);
    expect(r.batchViews.find((v: { name: string }) => v.name === 'user_segments')).toMatchObject({
      entities: ['user'],
      source: 'transactions',
      everyMs: 24 * HOUR_MS,
      lastSnapshot: null,
      windowMs: 30 * 24 * HOUR_MS,
      features: expect.arrayContaining([
        { name: 'segment', type: 'string', description: expect.any(String) },
      ]),
    });
    expect(r.models.map((m: { name: string }) => m.name).sort()).toEqual([
      'ranker_lr',
      'ranker_v1',
    ]);
    expect(r.experiments[0].arms).toHaveLength(2);
    expect(r.lineage.edges).toEqual(
      expect.arrayContaining([
        { from: 'batch_source:user_events_batch', to: 'stream_source:user_events' },
        { from: 'stream_source:user_events', to: 'feature_view:user_activity' },
        { from: 'feature_view:user_activity', to: 'on_demand_feature_view:user_recency' },
        { from: 'feature_view:user_activity', to: 'feature_service:recommendation_v1' },
        { from: 'feature_service:recommendation_v1', to: 'model:ranker_v1' },
        { from: 'model:ranker_lr', to: 'experiment:ranker_ab' },
        { from: 'stream_source:transactions', to: 'batch_view:user_segments' },
        { from: 'batch_view:user_segments', to: 'feature_service:batch_v1' },
      ]),
    );
    const layer = (id: string) => r.lineage.nodes.find((n: { id: string }) => n.id === id).layer;
    expect(layer('feature_view:user_activity')).toBeLessThan(layer('model:ranker_v1'));
  });

  it('freshness: push writes, watermarks, "no stream worker"', async () => {
    const f = await get('/ui/api/freshness');
    expect(f.streamWorker).toEqual({ status: 'none' });
    expect(f.registryVersion).toBe(1);
    const by = Object.fromEntries(f.views.map((v: { view: string }) => [v.view, v]));
    expect(by.user_activity).toMatchObject({
      source: 'user_events',
      topic: 'user-events',
      recordsPushed: 6,
      newestEventTs: T0 - MINUTE_MS,
      freshnessMs: MINUTE_MS,
      watermark: null,
      stream: null,
    });
    expect(by.user_activity.writeAgeMs).toBeGreaterThanOrEqual(0);
    expect(by.user_activity.writeAgeMs).toBeLessThan(60_000);
    expect(by.product_engagement.recordsPushed).toBe(7);
    expect(by.user_purchases).toMatchObject({
      recordsPushed: 0,
      lastWriteAt: null,
      watermark: T0 - 2 * HOUR_MS,
      watermarkAgeMs: 2 * HOUR_MS,
      freshnessMs: 2 * HOUR_MS,
    });
  });

  it('freshness: the stream worker JSON contract, and a bad endpoint reported', async () => {
    const { port } = metricsServer.address() as AddressInfo;
    s.ctx.streamMetricsUrl = `http://127.0.0.1:${port}/metrics.json`;
    metricsBody = JSON.stringify({
      topics: {
        'user-events': {
          recordsPerSec: 12.5,
          lag: { '0': 3, '1': 4 },
          dlq: 2,
          freshnessP99Ms: 850,
        },
      },
    });
    const f = await get('/ui/api/freshness');
    expect(f.streamWorker).toEqual({ status: 'ok', url: s.ctx.streamMetricsUrl });
    const ua = f.views.find((v: { view: string }) => v.view === 'user_activity');
    expect(ua.stream).toEqual({
      recordsPerSec: 12.5,
      lag: 7,
      lagByPartition: { '0': 3, '1': 4 },
      dlq: 2,
      freshnessP99Ms: 850,
    });
    expect(f.views.find((v: { view: string }) => v.view === 'user_purchases').stream).toBeNull();

    metricsBody = JSON.stringify({ topics: { 'user-events': { recordsPerSec: 'fast' } } });
    const bad = await get('/ui/api/freshness');
    expect(bad.streamWorker.status).toBe('error');
    expect(bad.streamWorker.message).toContain('topics.user-events.recordsPerSec');
    s.ctx.streamMetricsUrl = undefined;
  });

  it('freshness: topics after the LARDER_TOPIC_* overrides, an empty one unset (resolveTopic)', async () => {
    const { port } = metricsServer.address() as AddressInfo;
    s.ctx.streamMetricsUrl = `http://127.0.0.1:${port}/metrics.json`;
    metricsBody = JSON.stringify({
      topics: { 'ev-test': { recordsPerSec: 1, lag: { '0': 5 }, dlq: 0, freshnessP99Ms: 10 } },
    });
    const topicOf = async (view: string) =>
      (await get('/ui/api/freshness')).views.find((v: { view: string }) => v.view === view);
    try {
      s.ctx.topics = { LARDER_TOPIC_USER_EVENTS: 'ev-test', LARDER_TOPIC_TRANSACTIONS: '' };
      expect(await topicOf('user_activity')).toMatchObject({
        topic: 'ev-test',
        stream: { recordsPerSec: 1, lag: 5 },
      });
      expect((await topicOf('user_purchases')).topic).toBe('transactions');
    } finally {
      s.ctx.topics = undefined;
      s.ctx.streamMetricsUrl = undefined;
    }
    expect((await topicOf('user_activity')).topic).toBe('user-events');
  });

  it('serving: count and latency per route over 60 s, without the dashboard itself', async () => {
    const body = {
      feature_service: 'recommendation_v1',
      entities: { user_id: ['u1'], product_id: ['p1'] },
    };
    for (let i = 0; i < 3; i++) {
      const res = await s.app.inject({
        method: 'POST',
        url: '/get-online-features',
        payload: body,
      });
      expect(res.statusCode).toBe(200);
    }
    await s.app.inject({ method: 'POST', url: '/get-online-features', payload: { entities: {} } });
    const sv = await get('/ui/api/serving');
    expect(sv.windowSeconds).toBe(60);
    const gof = sv.routes.find((r: { route: string }) => r.route === '/get-online-features');
    expect(gof).toMatchObject({ method: 'POST', count: 4, errors: 0, rps: 4 / 60 });
    expect(gof.p50Ms).toBeGreaterThan(0);
    expect(gof.p99Ms).toBeGreaterThanOrEqual(gof.p50Ms);
    expect(sv.routes.find((r: { route: string }) => r.route === '/push')).toMatchObject({
      count: 1,
    });
    expect(sv.routes.some((r: { route: string }) => r.route.startsWith('/ui'))).toBe(false);
  });

  it('pipeline: top products by views_5m, events per minute, conversion', async () => {
    const p = await get('/ui/api/pipeline?products=p9');
    expect(p.topProducts).toEqual([
      { productId: 'p1', views5m: 3 },
      { productId: 'p2', views5m: 1 },
      { productId: 'p3', views5m: 0 },
      { productId: 'p9', views5m: 0 },
    ]);
    expect(p.eventsPerMinute.start).toBe(T0 - 29 * MINUTE_MS);
    const counts = p.eventsPerMinute.bySource.user_events;
    expect(counts).toHaveLength(30);
    expect(counts[28]).toBe(1); // −1 min
    expect(counts[27]).toBe(1); // −2 min
    expect(counts[26]).toBe(1); // −3 min
    expect(counts[25]).toBe(2); // the view and the purchase at −3.5 min
    expect(counts[19]).toBe(1); // −10 min; the anonymous view at −90 min is outside
    expect(counts.reduce((a: number, b: number) => a + b, 0)).toBe(6);
    expect(p.conversion).toEqual({ sessions: 3, purchases: 1, rate: 1 / 3 });
    const top1 = await get('/ui/api/pipeline?limit=1');
    expect(top1.topProducts).toEqual([{ productId: 'p1', views5m: 3 }]);
  });

  it('entity-examples: real ids pushed to the server, per join key, for the placeholders', async () => {
    const r = await get('/ui/api/entity-examples');
    // UI_EVENTS: users u1, u2, u3 (and an anonymous event); products p1, p2, p3.
    expect(Object.keys(r.examples).sort()).toEqual(['product_id', 'user_id']);
    expect([...r.examples.user_id].sort()).toEqual(['u1', 'u2', 'u3']);
    expect([...r.examples.product_id].sort()).toEqual(['p1', 'p2', 'p3']);
  });

  it('entity-examples: ids only materialized (never pushed here) come from the online store', async () => {
    const now = Date.now();
    await s.store.writeLifetime([
      {
        view: 'product_catalog',
        entityKey: 'p-materialized',
        states: { category: { v: 'books', ts: now, id: 'e-m' } },
      },
    ]);
    const r = await get('/ui/api/entity-examples');
    expect(r.examples.product_id).toContain('p-materialized');
    expect(r.examples.product_id.length).toBeLessThanOrEqual(5);
    expect(r.examples.user_id).not.toContain('p-materialized');
  });

  it('/metrics: pushed records and their per-field nulls, rejected pushes by reason', async () => {
    const bad = await s.app.inject({
      method: 'POST',
      url: '/push',
      payload: {
        ...UI_PUSH,
        df: { ...UI_PUSH.df, eventType: UI_PUSH.df.eventType!.map(() => 'teleport') },
      },
    });
    expect(bad.statusCode).toBe(400);
    const m = (await s.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(m).toContain('larder_push_records_total{source="user_events"} 7\n');
    // UI_EVENTS: one anonymous event; five without a category, two with a price.
    expect(m).toContain('larder_push_field_nulls_total{source="user_events",field="userId"} 1\n');
    expect(m).toContain(
      'larder_push_field_nulls_total{source="user_events",field="properties.category"} 5\n',
    );
    expect(m).toContain(
      'larder_push_field_nulls_total{source="user_events",field="properties.price"} 5\n',
    );
    expect(m).not.toContain('field="eventId"');
    expect(m).toMatch(/larder_push_rejected_total\{source="user_events",reason="[a-z_]+"\} 1\n/);
  });

  it('the page has no made-up ids as placeholders', async () => {
    const res = await s.app.inject({ method: 'GET', url: '/ui/' });
    expect(res.body).not.toMatch(/placeholder="[up]\d/);
    expect(res.body).toContain('placeholder="a user id"');
  });

  it('answers bad queries with 400 and needs the read scope when auth is on', async () => {
    const res = await s.app.inject({ method: 'GET', url: '/ui/api/pipeline?limit=0' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.field).toBe('limit');
    const page = await s.app.inject({ method: 'GET', url: '/ui' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    const js = await s.app.inject({ method: 'GET', url: '/ui/static/app.js' });
    expect(js.headers['content-type']).toContain('text/javascript');
    expect(
      (await s.app.inject({ method: 'GET', url: '/ui/static/..%2Fui-api.ts' })).statusCode,
    ).toBe(404);
    const { key } = s.ctx.keys.create({ scopes: ['read'] });
    try {
      expect((await s.app.inject({ method: 'GET', url: '/ui/api/serving' })).statusCode).toBe(401);
      const ok = await s.app.inject({
        method: 'GET',
        url: '/ui/api/serving',
        headers: { 'x-api-key': key },
      });
      expect(ok.statusCode).toBe(200);
      expect((await s.app.inject({ method: 'GET', url: '/ui' })).statusCode).toBe(200);
    } finally {
      for (const k of s.ctx.keys.list()) s.ctx.keys.revoke(k.id);
    }
  });
});

import { describe, expect, it } from 'vitest';
import { loadRepository } from '../../definitions/load.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../core/duration.ts';

describe('the e-commerce repository (features/)', async () => {
  const repo = await loadRepository('examples/ecommerce/features');

  it('defines the spec objects', () => {
    expect([...repo.entities.keys()].sort()).toEqual(['product', 'user']);
    expect(repo.entities.get('user')?.spec.joinKey).toBe('user_id');
    expect(repo.entities.get('product')?.spec.joinKey).toBe('product_id');
    expect([...repo.featureViews.keys()].sort()).toEqual([
      'product_catalog',
      'product_engagement',
      'user_activity',
      'user_interest',
      'user_orders',
      'user_product_engagement',
      'user_purchases',
      'user_risk',
      'user_sessions',
    ]);
    expect(repo.featureViews.get('user_product_engagement')?.spec.entities).toEqual([
      'user',
      'product',
    ]);
    expect([...repo.onDemandViews.keys()].sort()).toEqual([
      'order_risk',
      'product_rates',
      'user_product',
      'user_recency',
    ]);
    expect(repo.streamSources.get('user_events')?.spec.topic).toBe('user-events');
    expect(repo.streamSources.get('transactions')?.spec.topic).toBe('transactions');
    expect(repo.streamSources.get('user_events')?.spec.topicEnv).toBe('LARDER_TOPIC_USER_EVENTS');
    expect([...repo.models.keys()].sort()).toEqual(['ranker_lr', 'ranker_v1']);
    expect(repo.experiments.get('ranker_ab')?.spec.arms.map((a) => [a.model, a.percent])).toEqual([
      ['ranker_v1', 90],
      ['ranker_lr', 10],
    ]);
  });

  it('gives every feature the spec type, window, hop and TTL', () => {
    const row = (view: string, name: string): [string, number | null, number | null] => {
      const f = repo.featureViews.get(view)!.spec.features.find((x) => x.name === name)!;
      return [f.type, f.windowMs, f.hopMs];
    };
    expect(row('user_activity', 'page_views_1h')).toEqual(['int64', HOUR_MS, MINUTE_MS]);
    expect(row('user_activity', 'page_views_7d')).toEqual(['int64', 7 * DAY_MS, HOUR_MS]);
    expect(row('user_activity', 'searches_24h')).toEqual(['int64', DAY_MS, HOUR_MS]);
    expect(row('user_activity', 'last_platform')).toEqual(['string', null, null]);
    expect(row('user_activity', 'last_event_ts')).toEqual(['int64', null, null]);
    expect(row('user_purchases', 'spend_30d')).toEqual(['float64', 30 * DAY_MS, DAY_MS]);
    expect(row('user_purchases', 'avg_order_value_30d')).toEqual(['float64', 30 * DAY_MS, DAY_MS]);
    expect(row('user_purchases', 'preferred_category_30d')).toEqual([
      'string',
      30 * DAY_MS,
      DAY_MS,
    ]);
    expect(row('product_engagement', 'views_5m')).toEqual(['int64', 5 * MINUTE_MS, MINUTE_MS]);
    expect(row('product_catalog', 'price')).toEqual(['float64', null, null]);
    expect(row('user_interest', 'recently_viewed_products')).toEqual([
      'string_list',
      7 * DAY_MS,
      HOUR_MS,
    ]);
    expect(
      repo.featureViews
        .get('user_interest')!
        .spec.features.find((f) => f.name === 'recently_viewed_products'),
    ).toMatchObject({ aggregation: 'last_n', n: 10, distinct: true });
    expect(row('user_interest', 'distinct_products_viewed_24h')).toEqual([
      'int64',
      DAY_MS,
      HOUR_MS,
    ]);
    expect(row('user_interest', 'distinct_categories_viewed_7d')).toEqual([
      'int64',
      7 * DAY_MS,
      HOUR_MS,
    ]);
    expect(row('user_product_engagement', 'up_views_7d')).toEqual(['int64', 7 * DAY_MS, HOUR_MS]);
    expect(row('user_product_engagement', 'up_cart_adds_30d')).toEqual([
      'int64',
      30 * DAY_MS,
      DAY_MS,
    ]);
    expect(row('user_product_engagement', 'up_last_view_ts')).toEqual(['int64', null, null]);
    expect(row('user_orders', 'last_order_total')).toEqual(['float64', null, null]);
    const ttl = Object.fromEntries(
      [...repo.featureViews.values()].map((v) => [v.spec.name, v.spec.ttlMs / DAY_MS]),
    );
    expect(ttl).toEqual({
      user_activity: 30,
      user_purchases: 90,
      product_engagement: 7,
      product_catalog: 30,
      user_interest: 30,
      user_product_engagement: 30,
      user_orders: 90,
      user_sessions: 30,
      user_risk: 30,
    });
  });

  it('defines the version 2 session and risk features (spec "Version 2")', () => {
    const seq = (view: string, name: string) => {
      const f = repo.featureViews.get(view)!.spec.features.find((x) => x.name === name)!;
      return [f.aggregation, f.type, f.windowMs, f.hopMs, f.sequence];
    };
    const gap = { previous: null, gapMs: 30 * MINUTE_MS };
    expect(seq('user_sessions', 'session_count_7d')).toEqual([
      'session_count',
      'int64',
      7 * DAY_MS,
      HOUR_MS,
      gap,
    ]);
    expect(
      repo.featureViews
        .get('user_sessions')!
        .spec.features.find((f) => f.name === 'converted_sessions_7d')!.where,
    ).toEqual({
      op: 'eq',
      left: { op: 'col', path: 'eventType' },
      right: { op: 'lit', value: 'purchase' },
    });
    expect(seq('user_sessions', 'avg_session_duration_7d_s')).toEqual([
      'session_avg_duration',
      'float64',
      7 * DAY_MS,
      HOUR_MS,
      gap,
    ]);
    expect(seq('user_sessions', 'current_session_page_views')).toEqual([
      'current_session_count',
      'int64',
      null,
      null,
      gap,
    ]);
    expect(seq('user_sessions', 'current_session_duration_s')).toEqual([
      'current_session_duration',
      'float64',
      null,
      null,
      gap,
    ]);
    expect(seq('user_risk', 'fast_events_1h')).toEqual([
      'count_previous',
      'int64',
      HOUR_MS,
      MINUTE_MS,
      { previous: { kind: 'gap_below', ms: 100 }, gapMs: null },
    ]);
    expect(seq('user_risk', 'ip_changes_1h')).toEqual([
      'count_previous',
      'int64',
      HOUR_MS,
      MINUTE_MS,
      { previous: { kind: 'changed' }, gapMs: null },
    ]);
  });

  it('serves all 26 features from recommendation_v1', () => {
    const fs = repo.resolveFeatures({ service: 'recommendation_v1' });
    expect(fs).toHaveLength(26);
    expect(fs.filter((f) => f.onDemand).map((f) => f.feature)).toEqual([
      'last_activity_days_ago',
      'view_to_cart_rate_24h',
      'cart_to_purchase_rate_24h',
      'price_vs_avg_order',
      'category_match',
      'device_optimization',
    ]);
    expect(fs.find((f) => f.feature === 'category_match')?.type).toBe('bool');
  });

  it('serves recommendation_v1 plus interest, interaction and sessions from recommendation_v2, and risk_v1', () => {
    const v1 = repo.resolveFeatures({ service: 'recommendation_v1' }).map((f) => f.feature);
    const v2 = repo.resolveFeatures({ service: 'recommendation_v2' }).map((f) => f.feature);
    expect(v2).toEqual([
      ...v1,
      'recently_viewed_products',
      'distinct_products_viewed_24h',
      'distinct_categories_viewed_7d',
      'up_views_7d',
      'up_cart_adds_30d',
      'up_last_view_ts',
      'session_count_7d',
      'converted_sessions_7d',
      'avg_session_duration_7d_s',
      'current_session_events',
      'current_session_page_views',
      'current_session_duration_s',
    ]);
    expect(
      repo.resolveFeatures({ service: 'risk_v1' }).map((f) => `${f.view}:${f.feature}`),
    ).toEqual([
      'user_risk:fast_events_1h',
      'user_risk:ip_changes_1h',
      'user_risk:distinct_ips_24h',
      'user_orders:last_order_total',
      'order_risk:large_last_order',
      'user_sessions:session_count_7d',
      'user_sessions:converted_sessions_7d',
      'user_sessions:avg_session_duration_7d_s',
      'user_sessions:current_session_events',
      'user_sessions:current_session_page_views',
      'user_sessions:current_session_duration_s',
    ]);
  });

  it('computes order_risk per the spec: over 5× the 30-day average, false if either is null', () => {
    const t = Date.UTC(2026, 0, 10);
    const risk = repo.onDemandViews.get('order_risk')!;
    expect(
      risk.transform(
        {
          last_order_total: [501, 500, null, 10, 1],
          avg_order_value_30d: [100, 100, 100, null, 0],
        },
        { size: 5, timestamps: [t, t, t, t, t] },
      ),
    ).toEqual({ large_last_order: [true, false, false, false, true] });
  });

  it('computes the on-demand features column-wise per the spec', () => {
    const t = Date.UTC(2026, 0, 10);
    const rec = repo.onDemandViews.get('user_recency')!;
    expect(
      rec.transform(
        { last_event_ts: [t - 2.5 * DAY_MS, null, t] },
        { size: 3, timestamps: [t, t, t] },
      ),
    ).toEqual({ last_activity_days_ago: [2, null, 0] });
    const rates = repo.onDemandViews.get('product_rates')!;
    expect(
      rates.transform(
        { views_24h: [10, 0, 4], cart_adds_24h: [2, 3, 0], purchases_24h: [1, 1, 0] },
        { size: 3, timestamps: [t, t, t] },
      ),
    ).toEqual({
      view_to_cart_rate_24h: [0.2, null, 0],
      cart_to_purchase_rate_24h: [0.5, 1 / 3, null],
    });
    const up = repo.onDemandViews.get('user_product')!;
    const out = up.transform(
      {
        price: [50, null, 30, 10, 5, 7],
        category: ['electronics', 'fashion', null, 'books', 'fashion', 'toys'],
        avg_order_value_30d: [100, 20, 10, 0, null, 7],
        preferred_category_30d: ['electronics', 'fashion', null, 'toys', 'fashion', null],
        last_platform: ['mobile', 'desktop', 'mobile', 'tablet', 'mobile', null],
      },
      { size: 6, timestamps: [t, t, t, t, t, t] },
    );
    expect(out).toEqual({
      price_vs_avg_order: [0.5, null, 3, null, null, 1],
      category_match: [true, true, false, false, true, false],
      device_optimization: [0.8, 0.7, 0.5, 0.9, 0.9, 0.5],
    });
  });
});

import { DAY_MS, feature, onDemandFeatureView } from 'larder';
import { product, user } from './entities.ts';
import { productCatalog, productEngagement, userActivity, userPurchases } from './views.ts';

export const userRecency = onDemandFeatureView({
  name: 'user_recency',
  entities: [user],
  inputs: { last_event_ts: feature(userActivity, 'last_event_ts', 'int64') },
  features: { last_activity_days_ago: 'int64' },
  transform: ({ last_event_ts }, { timestamps }) => ({
    last_activity_days_ago: last_event_ts.map((ts, i) =>
      ts === null ? null : Math.floor(((timestamps[i] as number) - ts) / DAY_MS),
    ),
  }),
});

const ratio = (num: number | null, den: number | null): number | null =>
  num === null || den === null || den === 0 ? null : num / den;

export const productRates = onDemandFeatureView({
  name: 'product_rates',
  entities: [product],
  inputs: {
    views_24h: feature(productEngagement, 'views_24h', 'int64'),
    cart_adds_24h: feature(productEngagement, 'cart_adds_24h', 'int64'),
    purchases_24h: feature(productEngagement, 'purchases_24h', 'int64'),
  },
  features: { view_to_cart_rate_24h: 'float64', cart_to_purchase_rate_24h: 'float64' },
  transform: ({ views_24h, cart_adds_24h, purchases_24h }) => ({
    view_to_cart_rate_24h: cart_adds_24h.map((c, i) => ratio(c, views_24h[i] ?? null)),
    cart_to_purchase_rate_24h: purchases_24h.map((p, i) => ratio(p, cart_adds_24h[i] ?? null)),
  }),
});

/** Affinity of (last platform, category) from the original pipeline's rules; else 0.5. */
const DEVICE_AFFINITY = new Map<string, Map<string, number>>([
  [
    'mobile',
    new Map([
      ['electronics', 0.8],
      ['fashion', 0.9],
    ]),
  ],
  [
    'desktop',
    new Map([
      ['electronics', 0.9],
      ['fashion', 0.7],
    ]),
  ],
  ['tablet', new Map([['books', 0.9]])],
]);

export const userProduct = onDemandFeatureView({
  name: 'user_product',
  entities: [user, product],
  inputs: {
    price: feature(productCatalog, 'price', 'float64'),
    category: feature(productCatalog, 'category', 'string'),
    avg_order_value_30d: feature(userPurchases, 'avg_order_value_30d', 'float64'),
    preferred_category_30d: feature(userPurchases, 'preferred_category_30d', 'string'),
    last_platform: feature(userActivity, 'last_platform', 'string'),
  },
  features: {
    price_vs_avg_order: 'float64',
    category_match: 'bool',
    device_optimization: 'float64',
  },
  transform: ({ price, category, avg_order_value_30d, preferred_category_30d, last_platform }) => ({
    price_vs_avg_order: price.map((p, i) => ratio(p, avg_order_value_30d[i] ?? null)),
    category_match: category.map(
      (c, i) => c !== null && preferred_category_30d[i] != null && c === preferred_category_30d[i],
    ),
    device_optimization: category.map((c, i) => {
      const platform = last_platform[i];
      return (c !== null && platform != null && DEVICE_AFFINITY.get(platform)?.get(c)) || 0.5;
    }),
  }),
});

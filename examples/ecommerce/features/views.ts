import { avg, col, count, featureView, last, max, mode, sum } from 'larder';
import { product, user } from './entities.ts';
import { transactions, userEvents } from './sources.ts';

const eventType = col('eventType');
const productId = col('properties.productId');

export const userActivity = featureView({
  name: 'user_activity',
  entities: [user],
  source: userEvents,
  keys: { user_id: col('userId') },
  filter: col('userId').isNotNull(),
  ttl: '30d',
  description: 'What a shopper did recently (anonymous events are skipped).',
  features: {
    page_views_1h: count({ where: eventType.eq('page_view'), window: '1h' }),
    page_views_7d: count({ where: eventType.eq('page_view'), window: '7d' }),
    clicks_1h: count({ where: eventType.eq('click'), window: '1h' }),
    cart_adds_7d: count({ where: eventType.eq('add_to_cart'), window: '7d' }),
    searches_24h: count({ where: eventType.eq('search'), window: '24h' }),
    events_24h: count({ window: '24h' }),
    last_platform: last(col('context.platform')),
    last_event_ts: last(col('timestamp')),
  },
});

export const userPurchases = featureView({
  name: 'user_purchases',
  entities: [user],
  source: transactions,
  keys: { user_id: col('userId') },
  filter: col('status').eq('completed'),
  ttl: '90d',
  description: 'Completed orders over the last 30 days.',
  features: {
    purchases_30d: count({ window: '30d' }),
    spend_30d: sum(col('totalAmount'), { window: '30d' }),
    avg_order_value_30d: avg(col('totalAmount'), { window: '30d' }),
    max_order_value_30d: max(col('totalAmount'), { window: '30d' }),
    preferred_category_30d: mode(col('orderItems[].category'), {
      weight: col('orderItems[].quantity'),
      window: '30d',
    }),
  },
});

export const productEngagement = featureView({
  name: 'product_engagement',
  entities: [product],
  source: userEvents,
  keys: { product_id: productId },
  filter: productId.isNotNull(),
  ttl: '7d',
  description: 'How much attention a product gets.',
  features: {
    views_5m: count({ where: eventType.eq('page_view'), window: '5m' }),
    views_1h: count({ where: eventType.eq('page_view'), window: '1h' }),
    views_24h: count({ where: eventType.eq('page_view'), window: '24h' }),
    cart_adds_24h: count({ where: eventType.eq('add_to_cart'), window: '24h' }),
    purchases_24h: count({ where: eventType.eq('purchase'), window: '24h' }),
  },
});

export const productCatalog = featureView({
  name: 'product_catalog',
  entities: [product],
  source: userEvents,
  keys: { product_id: productId },
  filter: productId.isNotNull(),
  ttl: '30d',
  description: 'Latest known price and category of a product, as seen in the clickstream.',
  features: {
    price: last(col('properties.price').toNumber()),
    category: last(col('properties.category')),
  },
});

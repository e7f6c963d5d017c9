/**
 * Version 2 views of the spec (../shared/spec/ecommerce-features.md, "Version 2"): what a
 * shopper looked at (last N distinct products, distinct counts), what they did with one
 * product (a view keyed by user AND product), and their last completed order.
 */
import { and, col, count, countDistinct, featureView, last, lastN } from 'larder';
import { product, user } from './entities.ts';
import { transactions, userEvents } from './sources.ts';

const eventType = col('eventType');
const productId = col('properties.productId');
const pageView = eventType.eq('page_view');

export const userInterest = featureView({
  name: 'user_interest',
  entities: [user],
  source: userEvents,
  keys: { user_id: col('userId') },
  filter: col('userId').isNotNull(),
  ttl: '30d',
  description:
    'What a shopper looked at: the latest distinct products, and how many different ones.',
  features: {
    recently_viewed_products: lastN(productId, {
      n: 10,
      distinct: true,
      where: and(pageView, productId.isNotNull()),
      window: '7d',
    }),
    distinct_products_viewed_24h: countDistinct(productId, { where: pageView, window: '24h' }),
    distinct_categories_viewed_7d: countDistinct(col('properties.category'), {
      where: pageView,
      window: '7d',
    }),
  },
});

export const userProductEngagement = featureView({
  name: 'user_product_engagement',
  entities: [user, product],
  source: userEvents,
  keys: { user_id: col('userId'), product_id: productId },
  filter: and(col('userId').isNotNull(), productId.isNotNull()),
  ttl: '30d',
  description: 'What one shopper did with one product.',
  features: {
    up_views_7d: count({ where: pageView, window: '7d' }),
    up_cart_adds_30d: count({ where: eventType.eq('add_to_cart'), window: '30d' }),
    up_last_view_ts: last(col('timestamp'), { where: pageView }),
  },
});

export const userOrders = featureView({
  name: 'user_orders',
  entities: [user],
  source: transactions,
  keys: { user_id: col('userId') },
  filter: col('status').eq('completed'),
  ttl: '90d',
  description: "A shopper's last completed order.",
  features: {
    last_order_total: last(col('totalAmount')),
  },
});

import { entity } from 'larder';

export const user = entity({
  name: 'user',
  joinKey: 'user_id',
  description: 'A logged-in shopper (userId of events and transactions).',
});

export const product = entity({
  name: 'product',
  joinKey: 'product_id',
  description: 'A catalogue product (properties.productId of events).',
});

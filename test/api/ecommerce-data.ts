/** Push bodies of e-commerce records for the API tests (column-wise, as Feast's `df`). */
import { DAY_MS, MINUTE_MS } from '../../core/duration.ts';
import { userEventRecord } from '../support/records.ts';
import { T0 } from './serve-fixture.ts';

export const event = (
  id: string,
  userId: string | null,
  eventType: string,
  ageMs: number,
  properties: Record<string, string>,
  platform = 'mobile',
): Record<string, unknown> =>
  userEventRecord({
    eventId: id,
    userId,
    eventType,
    timestamp: T0 - ageMs,
    properties,
    platform,
    sessionId: `s-${id}`,
  });

export const columns = (rows: Record<string, unknown>[]): Record<string, unknown[]> => {
  const out: Record<string, unknown[]> = {};
  for (const k of Object.keys(rows[0] ?? {})) out[k] = rows.map((r) => r[k]);
  return out;
};

/** u1 viewed and carted p1 (electronics, 10.00) on mobile; p2 has no price; p3 was last seen 20 days ago. */
export const EVENTS = [
  event('e1', 'u1', 'page_view', 10 * MINUTE_MS, {
    productId: 'p1',
    category: 'electronics',
    price: '10.00',
  }),
  event('e2', 'u1', 'page_view', 20 * MINUTE_MS, {
    productId: 'p1',
    category: 'electronics',
    price: '12.00',
  }),
  event('e3', 'u1', 'add_to_cart', 5 * MINUTE_MS, { productId: 'p1' }),
  event('e4', 'u2', 'page_view', 2 * MINUTE_MS, { productId: 'p2' }, 'desktop'),
  event('e5', 'u2', 'page_view', 20 * DAY_MS, { productId: 'p3', category: 'books', price: '5.5' }),
];

export const TRANSACTIONS = [
  {
    transactionId: 't1',
    userId: 'u1',
    orderItems: [{ productId: 'p1', quantity: 2, price: 10, category: 'electronics' }],
    totalAmount: 20,
    currency: 'USD',
    paymentMethod: 'card',
    status: 'completed',
    timestamp: T0 - DAY_MS,
  },
];

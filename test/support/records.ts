/**
 * E-commerce records (the shapes of `examples/ecommerce/features/avro/`) for tests, with the fields no feature
 * reads (session, user agent, IP, currency, payment method) filled in.
 *
 * @example
 * userEventRecord({ eventId: 'e1', userId: 'u1', eventType: 'page_view', timestamp: T0,
 *   properties: { productId: 'p1' }, platform: 'mobile' });
 */

export interface UserEventFields {
  eventId: string;
  userId: string | null;
  eventType: string;
  timestamp: number;
  /** Null values are left out (an absent property). */
  properties: Record<string, string | null>;
  platform: string | null;
  sessionId?: string;
}

// Type aliases, not interfaces: the records are also used as plain `Record<string, unknown>`s.
export type UserEventRecord = {
  eventId: string;
  userId: string | null;
  sessionId: string;
  eventType: string;
  timestamp: number;
  properties: Record<string, string>;
  context: { userAgent: string; ip: string; platform: string | null; referrer: null };
};

export const userEventRecord = (e: UserEventFields): UserEventRecord => ({
  eventId: e.eventId,
  userId: e.userId,
  sessionId: e.sessionId ?? 's1',
  eventType: e.eventType,
  timestamp: e.timestamp,
  properties: Object.fromEntries(
    Object.entries(e.properties).filter(([, v]) => v !== null),
  ) as Record<string, string>,
  context: { userAgent: 'ua', ip: '10.0.0.1', platform: e.platform, referrer: null },
});

export type TransactionFields = {
  transactionId: string;
  userId: string | null;
  orderItems: unknown[];
  totalAmount: number | null;
  status: string;
  timestamp: number;
};

export type TransactionRecord = TransactionFields & { currency: string; paymentMethod: string };

export const transactionRecord = (t: TransactionFields): TransactionRecord => ({
  transactionId: t.transactionId,
  userId: t.userId,
  orderItems: t.orderItems,
  totalAmount: t.totalAmount,
  currency: 'EUR',
  paymentMethod: 'card',
  status: t.status,
  timestamp: t.timestamp,
});

/**
 * The one completed transaction (`t1`: user `u1`, one `p1` book for 2) that a test's data folder
 * holds when only its user events matter: a JSON line with its newline.
 */
export const oneTransactionLine = (timestamp: number): string =>
  JSON.stringify(
    transactionRecord({
      transactionId: 't1',
      userId: 'u1',
      orderItems: [{ productId: 'p1', category: 'books', quantity: 1, price: 2 }],
      totalAmount: 2,
      status: 'completed',
      timestamp,
    }),
  ) + '\n';

/**
 * The stream worker on fast-check-generated records, valid under the source schemas but shaped
 * freely (not by `gen-data`): sparse or extra properties, absent optional fields, unknown
 * fields at any depth, anonymous events, empty orders, late events up to 9 days old. Produced
 * to Kafka, applied by the worker, every served value of recommendation_v1 must equal the
 * brute-force reference evaluator's on the same records, and nothing may be dead-lettered.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EVENT_TYPES } from '../../examples/ecommerce/features/schemas.ts';
import { conformToSchema } from '../../definitions/source-record.ts';
import {
  createTestTopics,
  expectReferenceValues,
  kafka,
  loadFeatures,
  openTestStore,
  startTestWorker,
  waitConsumed,
} from './stream-fixture.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const DAY = 24 * 3600_000;
const USERS = ['u1', 'u2', 'u3'];
const PRODUCTS = ['p1', 'p2', 'p3'];

type Rec = Record<string, unknown>;

/** Sets `key` to `v` unless `v` is undefined (an absent field). */
const withField = (r: Rec, key: string, v: unknown): Rec =>
  v === undefined ? r : { ...r, [key]: v };

const unknownField = fc.option(fc.oneof(fc.string(), fc.integer(), fc.constant({ nested: [1] })), {
  nil: undefined,
});

const event = (end: number) =>
  fc
    .record({
      userId: fc.option(fc.constantFrom(...USERS), { nil: undefined }),
      anonymous: fc.boolean(),
      eventType: fc.constantFrom(...EVENT_TYPES),
      age: fc.integer({ min: 0, max: 9 * DAY }),
      productId: fc.option(fc.constantFrom(...PRODUCTS), { nil: undefined }),
      price: fc.option(
        fc.oneof(fc.integer({ min: 0, max: 500 }).map(String), fc.constantFrom('9.99', 'n/a', '')),
        { nil: undefined },
      ),
      category: fc.option(fc.constantFrom('books', 'toys', 'garden'), { nil: undefined }),
      extraProperty: fc.option(fc.string(), { nil: undefined }),
      platform: fc.constantFrom('web', 'ios', 'android'),
      referrer: fc.option(fc.option(fc.webUrl(), { nil: null }), { nil: undefined }),
      unknownTop: unknownField,
      unknownContext: unknownField,
    })
    .map((e) => {
      const properties: Rec = {};
      if (e.productId !== undefined) properties.productId = e.productId;
      if (e.price !== undefined) properties.price = e.price;
      if (e.category !== undefined) properties.category = e.category;
      if (e.extraProperty !== undefined) properties.utm_source = e.extraProperty;
      let context: Rec = { userAgent: 'ua', ip: '10.0.0.1', platform: e.platform };
      context = withField(context, 'referrer', e.referrer);
      context = withField(context, 'screenWidth', e.unknownContext);
      let r: Rec = {
        sessionId: 's1',
        eventType: e.eventType,
        timestamp: end - e.age,
        properties,
        context,
      };
      // userId: a user, null (anonymous) or absent (an older producer).
      r = withField(r, 'userId', e.userId ?? (e.anonymous ? null : undefined));
      return withField(r, 'campaign', e.unknownTop);
    });

const transaction = (end: number) =>
  fc
    .record({
      userId: fc.constantFrom(...USERS),
      status: fc.constantFrom('completed', 'completed', 'pending', 'refunded'),
      age: fc.integer({ min: 0, max: 9 * DAY }),
      totalAmount: fc.double({ min: 0, max: 1000, noNaN: true }),
      items: fc.array(
        fc.record({
          productId: fc.constantFrom(...PRODUCTS),
          quantity: fc.integer({ min: -1, max: 4 }),
          price: fc.double({ min: 0, max: 100, noNaN: true }),
          category: fc.constantFrom('books', 'toys', 'garden', ''),
          giftWrap: fc.option(fc.boolean(), { nil: undefined }),
        }),
        { maxLength: 3 },
      ),
      unknownTop: unknownField,
    })
    .map((t) =>
      withField(
        {
          userId: t.userId,
          orderItems: t.items.map((i) =>
            withField({ ...i, giftWrap: undefined }, 'giftWrap', i.giftWrap),
          ),
          totalAmount: t.totalAmount,
          currency: 'EUR',
          paymentMethod: 'card',
          status: t.status,
          timestamp: end - t.age,
        },
        'loyaltyPoints',
        t.unknownTop,
      ),
    );

/** JSON drops undefined fields, as a producer that never wrote them. */
const json = (r: Rec): string => JSON.stringify(r);

describe('stream worker on generated records', () => {
  it('serves what the reference evaluator computes from the same records, dead-letters none', async () => {
    const repo = await loadFeatures();
    const end = Date.now() - 60_000;
    const batchType = (name: string) => repo.streamSources.get(name)!.batch.spec.schema;
    await fc.assert(
      fc.asyncProperty(
        fc.array(event(end), { minLength: 1, maxLength: 40 }),
        fc.array(transaction(end), { maxLength: 15 }),
        async (evs, txs) => {
          const events: Rec[] = evs.map((e, i) => ({ ...e, eventId: `e${i}` }));
          const transactions: Rec[] = txs.map((t, i) => ({ ...t, transactionId: `t${i}` }));
          const topics = await createTestTopics(2);
          cleanups.push(topics.cleanup);
          const producer = kafka.producer();
          await producer.connect();
          await producer.send({
            topic: topics.user_events,
            messages: events.map((e) => ({ key: String(e.userId ?? 'anon'), value: json(e) })),
          });
          await producer.send({
            topic: topics.transactions,
            messages: transactions.map((t) => ({ key: String(t.userId), value: json(t) })),
          });
          await producer.disconnect();
          const { store, close } = await openTestStore(repo);
          cleanups.push(close);
          const worker = await startTestWorker(store, topics, cleanups, {
            repo,
            maxBatchRecords: 7,
          });
          await waitConsumed(store, worker.group, topics.all, 60_000);
          // The worker counts a batch once its write (with the checkpoint) has returned:
          // a moment after the checkpoint is visible in the store.
          await vi.waitFor(
            () => {
              expect(worker.stats.deadLettered).toBe(0);
              expect(worker.stats.records).toBe(events.length + transactions.length);
            },
            { timeout: 10_000 },
          );
          // The reference reads the records as the batch path does (JSON round trip, then
          // unknown fields ignored and absent nullable ones null).
          const read = (name: string, rs: Rec[]) =>
            rs.map((r) => conformToSchema(batchType(name), JSON.parse(json(r))) as Rec);
          const compared = await expectReferenceValues(repo, store, {
            records: [],
            events: read('user_events', events),
            transactions: read('transactions', transactions),
            users: [...USERS, 'u-never'],
            products: [...PRODUCTS, 'p-never'],
            t: end + 30_000,
          });
          expect(compared).toBeGreaterThan(0);
          for (const c of cleanups.splice(0).reverse()) await c();
        },
      ),
      { numRuns: 4, seed: 1313, endOnFailure: true },
    );
  });
});

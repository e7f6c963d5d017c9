/**
 * Bounded differential fuzzing through the HTTP and gRPC layers (fixed seed, in process, no
 * services): each case's records pushed through `POST /push` as JSON and every feature read
 * through `POST /get-online-features` on the fast path and on fastify's path, and through gRPC
 * `GetOnlineFeatures`, against the reference (`http-paths.ts`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOUR_MS, MINUTE_MS } from '../../core/duration.ts';
import type { FeaturePlan } from './definitions.ts';
import { describeMismatches } from './differential.ts';
import { atAnchor, type FuzzCase } from './fuzz-case.ts';
import { describeHttpFuzz } from './http-fuzz-cases.ts';
import { JSON_STYLES, openHttpEnv, type HttpEnv } from './http-paths.ts';
import { ANCHOR } from './in-process.ts';

const NOW = 40 * 24 * HOUR_MS + MINUTE_MS + 1;

const feature = (
  name: string,
  aggregation: FeaturePlan['aggregation'],
  o: Partial<FeaturePlan> = {},
): FeaturePlan => ({
  name,
  aggregation,
  input: null,
  weight: null,
  windowMinutes: null,
  hopMinutes: null,
  where: null,
  ...o,
});

const tx = (id: string, userId: string, ts: number, totalAmount: number) => ({
  source: 'transactions' as const,
  record: {
    transactionId: id,
    userId,
    orderItems: [{ productId: 'p1', quantity: 1, price: totalAmount, category: 'c' }],
    totalAmount,
    currency: 'EUR',
    paymentMethod: 'card',
    status: 'completed',
    timestamp: ts,
  },
});

const amount = { col: 'totalAmount' };

/**
 * Numbers at JSON's limits, pushed as JSON text: ±Infinity can only be sent as a number beyond
 * float64's range (`1e400`), a null input like the reference's ±Infinity; -0 as `-0.0` (Python)
 * or `0` (JavaScript) reads as 0.
 */
const LIMITS: FuzzCase = {
  plans: [
    {
      name: 'v0',
      source: 'transactions',
      entity: 'user',
      key: { col: 'userId' },
      filter: null,
      ttlMinutes: 24 * 60,
      features: [
        feature('last_amount', 'last', { input: amount }),
        feature('sum_1h', 'sum', { input: amount, windowMinutes: 60 }),
        feature('max_1h', 'max', { input: amount, windowMinutes: 60 }),
        feature('n_1h', 'count', { windowMinutes: 60 }),
        feature('recent', 'last_n', { input: amount, n: 3, windowMinutes: 60 }),
        feature('top_item', 'mode', {
          input: { col: 'orderItems[].productId' },
          weight: { col: 'orderItems[].price' },
          windowMinutes: 60,
        }),
      ],
    },
  ],
  onDemand: { inputs: [{ view: 'v0', feature: 'last_amount' }], request: 'float64' },
  now: NOW,
  records: [
    tx('t1', 'u1', NOW - 10 * MINUTE_MS, 5),
    tx('t2', 'u1', NOW - 8 * MINUTE_MS, Infinity),
    tx('t3', 'u1', NOW - 6 * MINUTE_MS, -Infinity),
    tx('t4', 'u2', NOW - 4 * MINUTE_MS, -0),
    tx('t5', 'u3', NOW - 2 * MINUTE_MS, Infinity),
  ],
  exportRows: [],
  onlineReads: ['u1', 'u2', 'u3', 'never-seen'].flatMap((u) => [
    { user_id: u, product_id: 'p1', t: NOW, req: -0 },
    { user_id: u, product_id: 'p1', t: NOW + 30 * MINUTE_MS, req: 2 ** 53 + 2 },
    { user_id: u, product_id: 'p1', t: NOW + 40 * MINUTE_MS, req: -Infinity },
  ]),
};

describeHttpFuzz({
  title:
    'differential fuzzing: pushed over HTTP, read over HTTP (fast path, fastify) and gRPC = reference',
  file: 'test/fuzz/fuzz-http.test.ts',
  seed: 1414,
  place: (c) => atAnchor(c, ANCHOR),
});

describe("JSON's limits through the HTTP and gRPC layers (docs/api.md)", () => {
  let env: HttpEnv;
  beforeAll(async () => {
    env = await openHttpEnv();
  });
  afterAll(async () => {
    await env?.close();
  });

  it('±1e400 pushes ±Infinity (a null input), -0 reads as 0, in every JSON style', async () => {
    // One check per style: each case's first push is written in the next style.
    for (let i = 0; i < JSON_STYLES.length; i++)
      expect(describeMismatches(await env.check(atAnchor(LIMITS, ANCHOR)))).toBe('');
  });

  it('NaN and Infinity are not JSON; an int64 beyond 2^53 - 1 is a 400 naming its field', async () => {
    const c = atAnchor(LIMITS, ANCHOR);
    await env.check(c);
    const body = (total: string, quantity: string): string =>
      `{"push_source_name": "transactions", "df": {"transactionId": ["x"], "userId": ["u1"], ` +
      `"orderItems": [[{"productId": "p1", "quantity": ${quantity}, "price": 1, "category": "c"}]], ` +
      `"totalAmount": [${total}], "currency": ["EUR"], "paymentMethod": ["card"], ` +
      `"status": ["completed"], "timestamp": [${c.now}]}, "to": "online"}`;
    const detail = (text: string): Record<string, unknown> =>
      JSON.parse(JSON.parse(text) as string) as Record<string, unknown>;
    for (const total of ['NaN', 'Infinity', '-Infinity']) {
      const a = await env.post('/push', body(total, '1'), c.now);
      expect(a.status).toBe(400);
      expect(detail(a.body)).toMatchObject({ field: '(body)', reason: 'malformed_body' });
    }
    for (const quantity of ['9007199254740992', '-9007199254740993', '1e16']) {
      const a = await env.post('/push', body('1', quantity), c.now);
      expect(a.status).toBe(400);
      expect(detail(a.body)).toMatchObject({
        field: 'df.orderItems[].quantity[0]',
        reason: 'invalid_record',
      });
    }
    // quantity is an Avro int in transactions.avsc, and its zod schema says so: beyond the
    // int32 range, or not whole, it is refused like any broken check, in the words of a batch
    // file's reject and a dead letter (offline/validate-record.ts).
    for (const [quantity, message] of [
      ['2147483648', 'number greater than 2147483647'],
      ['-2147483649', 'number less than -2147483648'],
      ['1.5', 'expected int64, got number'],
    ]) {
      const a = await env.post('/push', body('1', quantity!), c.now);
      expect(a.status).toBe(400);
      expect(detail(a.body)).toMatchObject({
        field: 'df.orderItems[].quantity[0]',
        reason: 'invalid_record',
        message: `row 0: field "orderItems[].quantity": ${message}`,
      });
    }
    // The int32 bounds and whole numbers written as floats are accepted.
    for (const quantity of ['2147483647', '-2147483648', '3.0', '3e0', '2.147483647e9'])
      expect((await env.post('/push', body('1', quantity), c.now)).status).toBe(200);
    // A read's request value: the same limits.
    const read = (req: string): Promise<{ status: number; body: string }> =>
      env.post(
        '/get-online-features',
        `{"features": ["od:r"], "entities": {"user_id": ["u1"], "product_id": ["p1"], "req": [${req}]}}`,
        c.now,
      );
    expect((await read('NaN')).status).toBe(400);
    const big = await read('1e400');
    expect(big.status).toBe(200);
    // An on-demand output of ±Infinity is null (docs/definitions.md "Outputs").
    const r = (
      JSON.parse(big.body) as { results: { values: unknown[]; statuses: string[] }[] }
    ).results.at(-1)!;
    expect(r).toMatchObject({ values: [null], statuses: ['NULL_VALUE'] });
  });
});

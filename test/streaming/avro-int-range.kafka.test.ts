/**
 * `transactions.avsc` types `orderItems[].quantity` as an Avro `int` (32-bit), and the example's
 * zod schema states the same range (`AVRO_INT_MIN` … `AVRO_INT_MAX`): on the stream, a quantity
 * outside it or not whole is dead-lettered (`schema-invalid`) whether it comes as JSON or as Avro
 * from a writer schema that widened the field (`long`, `double`: not resolvable to the reader's
 * `int`, so read in the writer's view and judged by the zod schema), as batch files count it a
 * reject and `/push` refuses it (test/offline/validation-differential, test/fuzz/fuzz-http).
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import avro from 'avsc';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AVRO_INT_MAX, AVRO_INT_MIN } from '../../examples/ecommerce/features/schemas.ts';
import { inspectDlq } from '../../streaming/dlq-tools.ts';
import {
  BROKERS,
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

type Rec = Record<string, unknown>;
interface Avsc {
  fields: { name: string; type: unknown }[];
}

const reader = JSON.parse(
  readFileSync('examples/ecommerce/features/avro/transactions.avsc', 'utf8'),
) as Avsc;
/** The reader schema with `orderItems[].quantity` of type `type`. */
const withQuantity = (type: string): Avsc => ({
  ...reader,
  fields: reader.fields.map((f) => {
    if (f.name !== 'orderItems') return f;
    const arr = f.type as { items: Avsc };
    return {
      ...f,
      type: {
        ...arr,
        items: {
          ...arr.items,
          fields: arr.items.fields.map((g) => (g.name === 'quantity' ? { ...g, type } : g)),
        },
      },
    };
  }),
});

describe('stream worker: quantity is an Avro int on every encoding', () => {
  it('dead-letters a quantity beyond the int32 range or not whole, in JSON and in widened Avro; applies the bounds', async () => {
    const T = Date.now() - 10 * 60_000;
    const tx = (id: string, userId: string, quantity: number, dt: number): Rec => ({
      transactionId: id,
      userId,
      orderItems: [{ productId: 'p1', quantity, price: 2, category: 'c' }],
      totalAmount: 2,
      currency: 'EUR',
      paymentMethod: 'card',
      status: 'completed',
      timestamp: T + dt,
    });
    // The contract's own writer cannot write them at all.
    const int = avro.Type.forSchema(reader as avro.Schema);
    expect(int.isValid(tx('x', 'u1', AVRO_INT_MAX + 1, 0))).toBe(false);
    expect(int.isValid(tx('x', 'u1', 1.5, 0))).toBe(false);
    expect(int.isValid(tx('x', 'u1', AVRO_INT_MAX, 0))).toBe(true);

    const schemas: Record<string, Avsc> = {
      '/schemas/ids/1': reader,
      '/schemas/ids/2': withQuantity('long'),
      '/schemas/ids/3': withQuantity('double'),
    };
    const registry: Server = createServer((req, res) => {
      const schema = schemas[req.url ?? ''];
      if (schema) res.writeHead(200).end(JSON.stringify({ schema: JSON.stringify(schema) }));
      else res.writeHead(404).end('{"error_code":40403}');
    });
    await new Promise<void>((r) => registry.listen(0, '127.0.0.1', r));
    cleanups.push(
      () =>
        new Promise<void>((r) => {
          registry.close(() => r());
          registry.closeAllConnections();
        }),
    );
    const port = (registry.address() as { port: number }).port;
    const wire = (id: number, value: Rec): Buffer => {
      const head = Buffer.alloc(5);
      head.writeUInt32BE(id, 1);
      const type = avro.Type.forSchema(schemas[`/schemas/ids/${id}`] as avro.Schema);
      return Buffer.concat([head, type.toBuffer(value)]);
    };

    const good = [
      tx('g1', 'u1', AVRO_INT_MAX, 1000),
      tx('g2', 'u1', AVRO_INT_MIN, 2000),
      tx('g3', 'u2', 3, 3000),
    ];
    const messages: { key: string; value: string | Buffer }[] = [
      { key: 'json-big', value: JSON.stringify(tx('b1', 'u1', AVRO_INT_MAX + 1, 4000)) },
      { key: 'json-small', value: JSON.stringify(tx('b2', 'u1', AVRO_INT_MIN - 1, 4000)) },
      { key: 'json-frac', value: JSON.stringify(tx('b3', 'u1', 1.5, 4000)) },
      { key: 'long-big', value: wire(2, tx('b4', 'u1', AVRO_INT_MAX + 1, 4000)) },
      { key: 'double-frac', value: wire(3, tx('b5', 'u1', 1.5, 4000)) },
      { key: 'json-ok', value: JSON.stringify(good[0]) },
      { key: 'int-ok', value: wire(1, good[1]!) },
      { key: 'long-ok', value: wire(2, good[2]!) },
    ];

    const repo = await loadFeatures();
    const topics = await createTestTopics(1);
    cleanups.push(topics.cleanup);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: topics.transactions, messages });
    await producer.disconnect();

    const { store, close } = await openTestStore(repo);
    cleanups.push(close);
    // The JSON encoding also takes wire-format Avro: one topic carries both.
    const worker = await startTestWorker(store, topics, cleanups, {
      repo,
      schemaRegistryUrl: `http://127.0.0.1:${port}`,
    });
    await waitConsumed(store, worker.group, topics.all);
    await vi.waitFor(() => expect(worker.stats.deadLettered).toBe(5), { timeout: 10_000 });

    const dlq = await inspectDlq({ brokers: BROKERS, topic: topics.transactions });
    expect(dlq.map((r) => [r.key, r.reason.split(': ').slice(0, 2).join(': ')])).toEqual([
      ['json-big', 'schema-invalid: field "orderItems[].quantity"'],
      ['json-small', 'schema-invalid: field "orderItems[].quantity"'],
      ['json-frac', 'schema-invalid: field "orderItems[].quantity"'],
      ['long-big', 'schema-invalid: field "orderItems[].quantity"'],
      ['double-frac', 'schema-invalid: field "orderItems[].quantity"'],
    ]);
    await expectReferenceValues(repo, store, {
      records: [],
      events: [],
      transactions: good,
      users: ['u1', 'u2', 'u-never'],
      products: ['p1', 'p-never'],
      t: T + 3600_000,
    });
  });
});

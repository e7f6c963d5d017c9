/**
 * Schema evolution on the stream path, end to end (Kafka → worker → Redis): producers that
 * add optional fields (top level and nested) or drop nullable ones are read as the batch path
 * reads them, in JSON and in Avro (writer → reader schema resolution, writer schemas from a
 * Schema Registry stand-in: a local HTTP server with the Confluent `/schemas/ids/:id` API). A
 * registry that is down holds the records back (transient, retried); it never dead-letters them.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import avro from 'avsc';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { userEventRecord } from '../support/records.ts';
import {
  createTestTopics,
  expectReferenceValues,
  kafka,
  loadFeatures,
  openTestStore,
  startTestWorker,
  waitConsumed,
  type History,
} from './stream-fixture.ts';

const cleanups: (() => Promise<void>)[] = [];

/** Resolves once `cond()` holds; fails after 20 s. */
async function waitFor(cond: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + 20_000;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const T = Date.now() - 10 * 60_000;

type Rec = Record<string, unknown>;

/** `r` without the field `k`. */
const without = (r: object, k: string): Record<string, unknown> =>
  Object.fromEntries(Object.entries(r).filter(([n]) => n !== k));

const historyOf = (events: Rec[]): History => ({
  records: [],
  events,
  transactions: [],
  users: ['u1', 'u2', 'u-never'],
  products: ['p1', 'p2', 'p-never'],
  t: T + 3600_000,
});

/** Three valid events; the reference reads them with every optional field present. */
const base = (): ReturnType<typeof userEventRecord>[] => [
  userEventRecord({
    eventId: 'e1',
    userId: 'u1',
    eventType: 'page_view',
    timestamp: T,
    properties: { productId: 'p1', price: '2.5', category: 'toys' },
    platform: 'web',
  }),
  userEventRecord({
    eventId: 'e2',
    userId: null,
    eventType: 'click',
    timestamp: T + 1000,
    properties: { productId: 'p2' },
    platform: 'ios',
  }),
  userEventRecord({
    eventId: 'e3',
    userId: 'u2',
    eventType: 'add_to_cart',
    timestamp: T + 2000,
    properties: { productId: 'p1', price: '3' },
    platform: 'android',
  }),
];

async function produce(topic: string, values: (string | Buffer)[]): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages: values.map((value, i) => ({ key: `k${i}`, value })) });
  await producer.disconnect();
}

describe('stream worker: schema evolution', () => {
  it('JSON: added fields (top level, nested) are ignored, dropped nullable fields read as null', async () => {
    const repo = await loadFeatures();
    const topics = await createTestTopics(1);
    cleanups.push(topics.cleanup);
    const events = base();
    const [e1, e2, e3] = events.map((e) => structuredClone(e) as Rec);
    const added = { ...e1, campaign: 'spring', context: { ...(e1!.context as Rec), screen: 3 } };
    const anonymous = without(e2!, 'userId');
    const ctx = without(e3!.context as Rec, 'referrer');
    const noReferrer = { ...e3, context: ctx };
    await produce(
      topics.user_events,
      [added, anonymous, noReferrer].map((r) => JSON.stringify(r)),
    );
    const { store, close } = await openTestStore(repo);
    cleanups.push(close);
    const worker = await startTestWorker(store, topics, cleanups, { repo });
    await waitConsumed(store, worker.group, [topics.user_events], 30_000);
    // Counted once the write with the checkpoint has returned: a moment after it is visible.
    await vi.waitFor(
      () => expect(worker.stats).toMatchObject({ records: 3, applied: 3, deadLettered: 0 }),
      { timeout: 10_000 },
    );
    await expectReferenceValues(repo, store, historyOf(events));
  });

  it('Avro: writer schemas with added and dropped fields resolve; a registry that is down is waited for, then everything is applied', async () => {
    const repo = await loadFeatures();
    const topics = await createTestTopics(1);
    cleanups.push(topics.cleanup);
    const reader = JSON.parse(
      readFileSync('examples/ecommerce/features/avro/events.avsc', 'utf8'),
    ) as {
      fields: { name: string; type: unknown }[];
    };
    const contextOf = (f: { type: unknown }) => f.type as { fields: { name: string }[] };
    // v2: a new top-level field and a new nested field in Context.
    const v2 = {
      ...reader,
      fields: [
        ...reader.fields.map((f) =>
          f.name === 'context'
            ? {
                ...f,
                type: {
                  ...contextOf(f),
                  fields: [
                    ...contextOf(f).fields,
                    { name: 'screen', type: ['null', 'int'], default: null },
                  ],
                },
              }
            : f,
        ),
        { name: 'campaign', type: ['null', 'string'], default: null },
      ],
    };
    // v0: no userId, no context.referrer (both optional in the reader).
    const v0 = {
      ...reader,
      fields: reader.fields
        .filter((f) => f.name !== 'userId')
        .map((f) =>
          f.name === 'context'
            ? {
                ...f,
                type: {
                  ...contextOf(f),
                  fields: contextOf(f).fields.filter((c) => c.name !== 'referrer'),
                },
              }
            : f,
        ),
    };
    const schemas: Record<string, object> = { '/schemas/ids/12': v2, '/schemas/ids/10': v0 };
    let hits = 0;
    const registry: Server = createServer((req, res) => {
      hits++;
      const schema = schemas[req.url ?? ''];
      if (schema) res.writeHead(200).end(JSON.stringify({ schema: JSON.stringify(schema) }));
      else res.writeHead(404).end('{"error_code":40403}');
    });
    await new Promise<void>((r) => registry.listen(0, '127.0.0.1', r));
    const port = (registry.address() as { port: number }).port;
    const stop = () =>
      new Promise<void>((r) => {
        registry.close(() => r());
        registry.closeAllConnections();
      });
    cleanups.push(async () => {
      if (registry.listening) await stop();
    });
    await stop();

    const wire = (id: number, schema: object, value: unknown): Buffer => {
      const head = Buffer.alloc(5);
      head.writeUInt32BE(id, 1);
      return Buffer.concat([head, avro.Type.forSchema(schema as avro.Schema).toBuffer(value)]);
    };
    const events = base();
    const [e1, e2, e3] = events.map((e) => structuredClone(e) as Rec);
    const anonymous = without(e2!, 'userId');
    const ctx = without(anonymous.context as Rec, 'referrer');
    await produce(topics.user_events, [
      wire(12, v2, { ...e1, campaign: 'spring', context: { ...(e1!.context as Rec), screen: 3 } }),
      wire(10, v0, { ...anonymous, context: ctx }),
      wire(12, v2, { ...e3, campaign: null, context: { ...(e3!.context as Rec), screen: null } }),
    ]);

    const { store, close } = await openTestStore(repo);
    cleanups.push(close);
    const worker = await startTestWorker(store, topics, cleanups, {
      repo,
      schemaRegistryUrl: `http://127.0.0.1:${port}`,
      encodings: { user_events: 'avro' },
      retryBackoffMs: { initial: 20, max: 200 },
    });
    await waitFor(() => worker.stats.retries >= 3 || worker.stats.records > 0, 'three retries');
    expect([...worker.metrics.waiting.values()]).toMatchObject([
      {
        topic: topics.user_events,
        partition: 0,
        error: expect.stringMatching(/^LARDER_SCHEMA_REGISTRY_UNAVAILABLE: /),
      },
    ]);
    expect(worker.stats).toMatchObject({ records: 0, deadLettered: 0 });

    await new Promise<void>((r) => registry.listen(port, '127.0.0.1', r));
    await waitConsumed(store, worker.group, [topics.user_events], 30_000);
    // Counted once the write with the checkpoint has returned: a moment after it is visible.
    await vi.waitFor(
      () => expect(worker.stats).toMatchObject({ records: 3, applied: 3, deadLettered: 0 }),
      { timeout: 10_000 },
    );
    expect(hits).toBeGreaterThanOrEqual(2);
    expect(worker.metrics.waiting.size).toBe(0);
    await expectReferenceValues(repo, store, historyOf(events));
  });
});

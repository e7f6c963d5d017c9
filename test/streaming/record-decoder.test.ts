import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import avro from 'avsc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TransactionSchema, UserEventSchema } from '../../examples/ecommerce/features/schemas.ts';
import { LarderError } from '../../core/errors.ts';
import { createAvroSchemas } from '../../streaming/avro-schemas.ts';
import { createRecordDecoder } from '../../streaming/record-decoder.ts';

const schemaText = readFileSync('examples/ecommerce/features/avro/transactions.avsc', 'utf8');
const type = avro.Type.forSchema(JSON.parse(schemaText) as avro.Schema);
const tx = {
  transactionId: 't1',
  userId: 'u1',
  orderItems: [{ productId: 'p1', quantity: 2, price: 5, category: 'books' }],
  totalAmount: 10,
  currency: 'USD',
  paymentMethod: 'card',
  status: 'completed',
  timestamp: 1_700_000_000_000,
};
const wire = (id: number, magic = 0): Buffer => {
  const head = Buffer.alloc(5);
  head[0] = magic;
  head.writeUInt32BE(id, 1);
  return Buffer.concat([head, type.toBuffer(tx)]);
};

// A Schema Registry stub: a local HTTP server answering GET /schemas/ids/<id>.
let server: Server;
let url = '';
let hits = 0;
beforeAll(async () => {
  server = createServer((req, res) => {
    hits++;
    if (req.url === '/schemas/ids/42')
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ schema: schemaText }));
    else res.writeHead(404).end('{"error_code":40403}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const decoder = (registryUrl: string | undefined, encoding: 'json' | 'avro' = 'avro') =>
  createRecordDecoder({
    source: 'transactions',
    encoding,
    schema: TransactionSchema,
    avro: createAvroSchemas({
      registryUrl,
      root: 'examples/ecommerce/features',
      avscFiles: { transactions: 'avro/transactions.avsc' },
    }),
    joinKeyFields: new Set(['userId']),
  });

/** `r` without the field `k`. */
const without = (r: object, k: string): Record<string, unknown> =>
  Object.fromEntries(Object.entries(r).filter(([n]) => n !== k));

describe('record decoder', () => {
  it('decodes and validates JSON', async () => {
    const d = decoder(undefined, 'json');
    expect(await d(Buffer.from(JSON.stringify(tx)))).toEqual({ ok: true, record: tx });
    expect(await d(Buffer.from('{nope'))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^unparseable: JSON/),
    });
    expect(await d(Buffer.from(JSON.stringify({ ...tx, totalAmount: 'x' })))).toMatchObject({
      ok: false,
      reason: 'schema-invalid: field "totalAmount": expected float64, got string',
    });
    expect(await d(Buffer.from(JSON.stringify({ ...tx, userId: undefined })))).toMatchObject({
      ok: false,
      reason: 'missing-join-key: missing required field "userId"',
    });
    expect(await d(null)).toMatchObject({ ok: false });
  });

  it('decodes the Confluent wire format with schemas from a Schema Registry (cached per id)', async () => {
    const d = decoder(url);
    hits = 0;
    expect(await d(wire(42))).toEqual({ ok: true, record: tx });
    expect(await d(wire(42))).toEqual({ ok: true, record: tx });
    expect(hits).toBe(1);
    expect(await d(wire(7))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^unparseable: Avro: schema registry: 404/),
    });
    expect(await d(wire(42, 1))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^bad-magic-byte/),
    });
  });

  it('falls back to the repository .avsc without a registry; a JSON source also takes wire-format Avro', async () => {
    expect(await decoder(undefined)(wire(999))).toEqual({ ok: true, record: tx });
    expect(await decoder(undefined, 'json')(wire(5))).toEqual({ ok: true, record: tx });
    expect(await decoder(undefined)(Buffer.from([0, 0, 0, 0, 1, 0xff]))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^unparseable: Avro/),
    });
  });

  it('refuses int64 values beyond ±(2^53 − 1), as the batch validators do', async () => {
    const d = decoder(undefined, 'json');
    const reason = 'outside the int64 range read exactly on every path (±9007199254740991)';
    expect(await d(Buffer.from(JSON.stringify({ ...tx, timestamp: 1e20 })))).toEqual({
      ok: false,
      reason: `schema-invalid: field "timestamp": ${reason}`,
    });
    const items = [{ ...tx.orderItems[0], quantity: -(2 ** 60) }];
    expect(await d(Buffer.from(JSON.stringify({ ...tx, orderItems: items })))).toEqual({
      ok: false,
      reason: `schema-invalid: field "orderItems[].quantity": ${reason}`,
    });
    // (No ingest rules here: the timestamp's date range is not checked.)
    const edge = { ...tx, timestamp: 2 ** 53 - 1 };
    expect(await d(Buffer.from(JSON.stringify(edge)))).toEqual({ ok: true, record: edge });
    // quantity is an Avro int (transactions.avsc), and the zod schema bounds it so.
    const int32 = (quantity: number) => ({
      ...tx,
      orderItems: [{ ...tx.orderItems[0], quantity }],
    });
    expect(await d(Buffer.from(JSON.stringify(int32(2 ** 31 - 1))))).toEqual({
      ok: true,
      record: int32(2 ** 31 - 1),
    });
    expect(await d(Buffer.from(JSON.stringify(int32(2 ** 31))))).toMatchObject({
      ok: false,
      reason: 'schema-invalid: field "orderItems[].quantity": number greater than 2147483647',
    });
  });

  it('refuses a string with half a surrogate pair as unparseable, as batch files do (invalid JSON)', async () => {
    const d = decoder(undefined, 'json');
    const text = JSON.stringify({ ...tx, userId: 'u\ud800' });
    expect(text).toContain('\\ud800');
    expect(await d(Buffer.from(text))).toEqual({
      ok: false,
      reason: 'unparseable: JSON: a string holds half a surrogate pair (no UTF-8 form)',
    });
    // A whole pair (an astral character, escaped or not) is a string like any other.
    for (const userId of ['u\ud83d\ude00', 'u😀']) {
      const r = { ...tx, userId };
      expect(await d(Buffer.from(JSON.stringify(r).replace('😀', '\\ud83d\\ude00')))).toEqual({
        ok: true,
        record: r,
      });
    }
  });

  it('ignores unknown fields and fills missing optional ones, as the batch path does (JSON)', async () => {
    const d = decoder(undefined, 'json');
    // An added optional field at the top and inside the items: ignored.
    const added = {
      ...tx,
      coupon: 'X1',
      orderItems: [{ ...tx.orderItems[0], discount: 0.1, tags: ['a'] }],
    };
    expect(await d(Buffer.from(JSON.stringify(added)))).toEqual({ ok: true, record: tx });
    const e = createRecordDecoder({
      source: 'user_events',
      encoding: 'json',
      schema: UserEventSchema,
      avro: createAvroSchemas({ root: 'examples/ecommerce/features', avscFiles: {} }),
      joinKeyFields: new Set(['userId']),
    });
    const event = {
      eventId: 'e1',
      userId: null,
      sessionId: 's1',
      eventType: 'click',
      timestamp: 1_700_000_000_000,
      properties: {},
      context: { userAgent: 'ua', ip: '10.0.0.1', platform: 'web', referrer: null },
    };
    // A removed optional (nullable) field, at the top and nested: read as null.
    const noUser = without(event, 'userId');
    const noReferrer = without(event.context, 'referrer');
    expect(await e(Buffer.from(JSON.stringify({ ...noUser, context: noReferrer })))).toEqual({
      ok: true,
      record: event,
    });
    // An added nested field: ignored.
    const nested = { ...event, context: { ...event.context, screen: { w: 390, h: 844 } } };
    expect(await e(Buffer.from(JSON.stringify(nested)))).toEqual({ ok: true, record: event });
    // A removed required field is still invalid.
    const noSession = without(event, 'sessionId');
    expect(await e(Buffer.from(JSON.stringify(noSession)))).toMatchObject({
      ok: false,
      reason: 'schema-invalid: missing required field "sessionId"',
    });
  });

  it('resolves Avro writer schemas against the repository schema: added fields ignored, removed optional fields defaulted', async () => {
    const reader = JSON.parse(schemaText) as { fields: Record<string, unknown>[] };
    // Writer v2: a new top-level field and a new field in OrderItem.
    const v2 = {
      ...reader,
      fields: [
        ...reader.fields.map((f) =>
          f.name === 'orderItems'
            ? {
                ...f,
                type: {
                  type: 'array',
                  items: {
                    type: 'record',
                    name: 'OrderItem',
                    fields: [
                      { name: 'productId', type: 'string' },
                      { name: 'quantity', type: 'int' },
                      { name: 'price', type: 'double' },
                      { name: 'category', type: 'string' },
                      { name: 'discount', type: ['null', 'double'], default: null },
                    ],
                  },
                },
              }
            : f,
        ),
        { name: 'coupon', type: ['null', 'string'], default: null },
      ],
    };
    const v2Type = avro.Type.forSchema(v2 as avro.Schema);
    let v0Schema = '';
    const registry = createServer((req, res) => {
      if (req.url === '/schemas/ids/2')
        res.writeHead(200).end(JSON.stringify({ schema: JSON.stringify(v2) }));
      else if (req.url === '/schemas/ids/3')
        res.writeHead(200).end(JSON.stringify({ schema: v0Schema }));
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => registry.listen(0, '127.0.0.1', r));
    try {
      const d = decoder(`http://127.0.0.1:${(registry.address() as { port: number }).port}`);
      const head = Buffer.from([0, 0, 0, 0, 2]);
      const body = v2Type.toBuffer({
        ...tx,
        orderItems: [{ ...tx.orderItems[0], discount: 0.5 }],
        coupon: 'X1',
      });
      expect(await d(Buffer.concat([head, body]))).toEqual({ ok: true, record: tx });
      // Writer v0 of events: no userId, no context.referrer (optional in the reader: null).
      const events = JSON.parse(
        readFileSync('examples/ecommerce/features/avro/events.avsc', 'utf8'),
      ) as {
        fields: { name: string; type: unknown }[];
      };
      const v0 = {
        ...events,
        fields: events.fields
          .filter((f) => f.name !== 'userId')
          .map((f) =>
            f.name === 'context'
              ? {
                  ...f,
                  type: {
                    ...(f.type as { fields: { name: string }[] }),
                    fields: (f.type as { fields: { name: string }[] }).fields.filter(
                      (c) => c.name !== 'referrer',
                    ),
                  },
                }
              : f,
          ),
      };
      v0Schema = JSON.stringify(v0);
      const e = createRecordDecoder({
        source: 'user_events',
        encoding: 'avro',
        schema: UserEventSchema,
        avro: createAvroSchemas({
          registryUrl: `http://127.0.0.1:${(registry.address() as { port: number }).port}`,
          root: 'examples/ecommerce/features',
          avscFiles: { user_events: 'avro/events.avsc' },
        }),
        joinKeyFields: new Set(['userId']),
      });
      const event = {
        eventId: 'e1',
        sessionId: 's1',
        eventType: 'click',
        timestamp: 1_700_000_000_000,
        properties: { productId: 'p1' },
        context: { userAgent: 'ua', ip: '10.0.0.1', platform: 'web' },
      };
      const v0Body = avro.Type.forSchema(v0 as avro.Schema).toBuffer(event);
      expect(await e(Buffer.concat([Buffer.from([0, 0, 0, 0, 3]), v0Body]))).toEqual({
        ok: true,
        record: { ...event, userId: null, context: { ...event.context, referrer: null } },
      });
    } finally {
      await new Promise((r) => registry.close(r));
    }
  });

  it('a schema registry that is down or failing is a transient error, not a bad record', async () => {
    const failing = createServer((_req, res) => res.writeHead(503).end('{"error_code":50301}'));
    await new Promise<void>((r) => failing.listen(0, '127.0.0.1', r));
    const port = (failing.address() as { port: number }).port;
    try {
      await expect(decoder(`http://127.0.0.1:${port}`)(wire(42))).rejects.toMatchObject({
        code: 'LARDER_SCHEMA_REGISTRY_UNAVAILABLE',
      });
    } finally {
      await new Promise((r) => failing.close(r));
    }
    const down = await decoder(`http://127.0.0.1:${port}`)(wire(42)).catch((e: unknown) => e);
    expect(down).toBeInstanceOf(LarderError);
    expect(down).toMatchObject({ code: 'LARDER_SCHEMA_REGISTRY_UNAVAILABLE', retriable: true });
  });
  it('checks the ingest rules against the clock read per record, and dotted key paths', async () => {
    let now = tx.timestamp - 10 * 60_000;
    const decode = createRecordDecoder({
      source: 'transactions',
      encoding: 'json',
      schema: TransactionSchema,
      avro: createAvroSchemas({ root: 'examples/ecommerce/features', avscFiles: {} }),
      joinKeyFields: new Set(['userId']),
      joinKeyPaths: new Set(['userId']),
      ingest: {
        timestampField: 'timestamp',
        clock: () => now,
        maxFutureSkewMs: 60_000,
        maxKeyBytes: 8,
      },
    });
    const json = (r: object) => Buffer.from(JSON.stringify(r));
    expect(await decode(json(tx))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(
        /^future-timestamp: field "timestamp": 1700000000000 is later than now \+ 1m \(2023-11-14T22:04:20\.000Z\)/,
      ),
    });
    now = tx.timestamp;
    expect(await decode(json(tx))).toMatchObject({ ok: true, record: { userId: 'u1' } });
    expect(await decode(json({ ...tx, userId: 'u123456789' }))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^key-too-long: field "userId": a join key of 10 bytes/),
    });
    const nested = createRecordDecoder({
      source: 'user_events',
      encoding: 'json',
      schema: UserEventSchema,
      avro: createAvroSchemas({ root: 'examples/ecommerce/features', avscFiles: {} }),
      joinKeyFields: new Set(['properties']),
      joinKeyPaths: new Set(['properties.productId']),
      ingest: {
        timestampField: 'timestamp',
        clock: () => now,
        maxFutureSkewMs: 60_000,
        maxKeyBytes: 8,
      },
    });
    const event = (productId: string) =>
      json({
        eventId: 'e1',
        userId: 'u1',
        sessionId: 's1',
        eventType: 'click',
        timestamp: now,
        properties: { productId },
        context: { userAgent: 'a', ip: '1', platform: 'web', referrer: null },
      });
    for (let i = 0; i < 2; i++) {
      expect(await nested(event('p1'))).toMatchObject({ ok: true });
      expect(await nested(event('p123456789'))).toMatchObject({
        ok: false,
        reason: expect.stringMatching(/^key-too-long: field "properties.productId"/),
      });
    }
  });
});

import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import avro from 'avsc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TransactionSchema } from '../../features/schemas.ts';
import { createAvroSchemas } from '../../streaming/avro-schemas.ts';
import { createRecordDecoder } from '../../streaming/record-decoder.ts';

const schemaText = readFileSync('features/avro/transactions.avsc', 'utf8');
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
      root: 'features',
      avscFiles: { transactions: 'avro/transactions.avsc' },
    }),
    joinKeyFields: new Set(['userId']),
  });

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
      reason: expect.stringMatching(/^schema-invalid: totalAmount/),
    });
    expect(await d(Buffer.from(JSON.stringify({ ...tx, userId: undefined })))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^missing-join-key: userId/),
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
});

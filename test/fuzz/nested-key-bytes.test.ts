/**
 * Regression (found reading the fuzzer's key shapes): `ingest.maxKeyBytes` checked only
 * top-level join-key fields, so a view keyed by a nested path (`properties.productId`) let a
 * key of any length through `POST /push` and the stream worker. Both now check the key paths.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DefaultPushHandler } from '../../api/push/default-push-handler.ts';
import { LarderError } from '../../core/errors.ts';
import { UserEventSchema } from '../../examples/ecommerce/features/schemas.ts';
import { createOnlineStore } from '../../online/create-online-store.ts';
import { joinKeyFields, joinKeyPaths } from '../../streaming/apply-records.ts';
import { createAvroSchemas } from '../../streaming/avro-schemas.ts';
import { createRecordDecoder } from '../../streaming/record-decoder.ts';
import { tempDir } from '../support/temp-repo.ts';
import { buildRepository, type ViewPlan } from './definitions.ts';
import { columnsOf } from './differential.ts';

const NOW = 1_700_006_400_000;
const plans: ViewPlan[] = [
  {
    name: 'v0',
    source: 'user_events',
    entity: 'product',
    key: { col: 'properties.productId' },
    filter: null,
    ttlMinutes: 60,
    features: [
      {
        name: 'n',
        aggregation: 'count',
        input: null,
        weight: null,
        windowMinutes: 60,
        hopMinutes: null,
        where: null,
      },
    ],
  },
];
const event = (productId: string) => ({
  eventId: 'e1',
  userId: 'u1',
  sessionId: 's1',
  eventType: 'click',
  timestamp: NOW - 1000,
  properties: { productId },
  context: { userAgent: 'ua', ip: 'ip', platform: 'web', referrer: null },
});
/** 1026 UTF-8 bytes: over the default limit of 1024; 'é'.repeat(512) is exactly 1024. */
const LONG = 'é'.repeat(513);

describe('ingest.maxKeyBytes on a nested join-key path (properties.productId)', () => {
  const repo = buildRepository(plans);

  it('the key paths are the full paths the keys read', () => {
    expect([...joinKeyPaths(repo, 'user_events')]).toEqual(['properties.productId']);
    expect([...joinKeyFields(repo, 'user_events')]).toEqual(['properties']);
  });

  it('POST /push refuses the row with a 400 naming the path; 1024 bytes pass', async () => {
    const tmp = tempDir();
    const view = repo.featureViews.get('v0')!.spec;
    const store = createOnlineStore(
      { type: 'sqlite', path: join(tmp.dir, 'online.sqlite') },
      { namespace: `keys-${randomUUID()}`, views: [view], clock: () => NOW },
    );
    await store.init();
    try {
      const handler = new DefaultPushHandler(join(tmp.dir, 'data'), () => NOW);
      const snapshot = { repo, store, version: 0, loadedAt: NOW };
      const push = (productId: string) =>
        handler.push(snapshot, {
          source: 'user_events',
          columns: columnsOf([event(productId)]),
          to: 'online',
        });
      const refused = await push(LONG).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(LarderError);
      expect(refused).toMatchObject({
        code: 'LARDER_BAD_REQUEST',
        field: 'df.properties.productId[0]',
        message: expect.stringContaining('a join key of 1026 bytes; the limit is 1024'),
      });
      await expect(push('é'.repeat(512))).resolves.toMatchObject({ rows: 1, views: ['v0'] });
    } finally {
      await store.teardown();
      await store.close();
      tmp.cleanup();
    }
  });

  it('the stream decoder dead-letters it as key-too-long', async () => {
    const decode = createRecordDecoder({
      source: 'user_events',
      encoding: 'json',
      schema: UserEventSchema,
      avro: createAvroSchemas({ root: 'examples/ecommerce/features', avscFiles: {} }),
      joinKeyFields: joinKeyFields(repo, 'user_events'),
      joinKeyPaths: joinKeyPaths(repo, 'user_events'),
      ingest: {
        timestampField: 'timestamp',
        clock: () => NOW,
        maxFutureSkewMs: 300_000,
        maxKeyBytes: 1024,
      },
    });
    expect(await decode(Buffer.from(JSON.stringify(event(LONG))))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(
        /^key-too-long: field "properties.productId": a join key of 1026 bytes/,
      ),
    });
    expect(await decode(Buffer.from(JSON.stringify(event('p1'))))).toMatchObject({ ok: true });
  });
});

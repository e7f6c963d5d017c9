/**
 * A deliberate training/serving skew made the way it happens in production: a stream worker is
 * stopped while events keep arriving. The events reach the offline store (the batch files, as a
 * lake's copy of the topic does) but not the online store, so what `serve` serves (and logs)
 * lags the offline values, and `larder skew` reports exactly the rows and features the missed
 * events touch. Once the worker runs again and catches up, the same reads agree. Real Kafka,
 * the real stream worker, the served app with its feature log, DuckDB for the recomputation.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../config/config.ts';
import { openFeatureLog } from '../../monitoring/open-feature-log.ts';
import { skewReport } from '../../monitoring/skew.ts';
import { StreamWorker } from '../../streaming/stream-worker.ts';
import { serveRepo, type Served } from '../api/serve-fixture.ts';
import { BROKERS, kafka, waitConsumed } from '../streaming/stream-fixture.ts';
import { BASE_REPO, tempRepo } from '../support/temp-repo.ts';
import { createTopicsReady } from '../../core/create-topics.ts';

const TOPIC = `test-${randomUUID()}-skew`;
const NOW = Date.now();
const MIN = 60_000;

/** BASE_REPO's view fed by a stream source on TOPIC, and a service that logs every read. */
const REPO =
  BASE_REPO.replace('import { batchSource,', 'import { featureService, streamSource, batchSource,')
    .replace(
      'export const activity = featureView({',
      `export const evStream = streamSource({ name: 'ev_stream', topic: '${TOPIC}', batchSource: events });\nexport const activity = featureView({`,
    )
    .replace('source: events,', 'source: evStream,') +
  `export const logged = featureService({ name: 'logged', features: [activity], logging: {} });\n`;

const ev = (id: string, userId: string, kind: string, amount: number, minutesAgo: number) => ({
  id,
  userId,
  kind,
  amount,
  ts: NOW - minutesAgo * MIN,
});
/** Streamed while the worker runs. */
const BEFORE = [ev('a', 'u1', 'click', 2, 50), ev('b', 'u1', 'view', 3, 40)];
/** Arriving while the worker is stopped. */
const WHILE_STOPPED = [ev('c', 'u1', 'click', 5, 20), ev('d', 'u2', 'click', 10, 15)];

let s: Served;
let repo: { dir: string; cleanup: () => void };
let readAt = NOW;
const admin = kafka.admin();

async function produceAndLand(records: Record<string, unknown>[], file: string): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({
    topic: TOPIC,
    messages: records.map((r) => ({ key: String(r.userId), value: JSON.stringify(r) })),
  });
  await producer.disconnect();
  // The offline copy of the same events (the batch source's files).
  const dir = join(s.home, 'data', 'raw', 'events');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, file), records.map((r) => JSON.stringify(r)).join('\n') + '\n');
}

async function streamUntilConsumed(): Promise<void> {
  const worker = new StreamWorker({
    repo: s.repo,
    store: s.store,
    brokers: BROKERS,
    namespace: s.store.namespace,
    sessionTimeoutMs: 6000,
  });
  await worker.start();
  try {
    await waitConsumed(s.store, worker.group, [TOPIC], 60_000);
  } finally {
    await worker.stop();
  }
}

/** One logged read of u1 and u2 at `at`. */
async function readLogged(at: number): Promise<void> {
  readAt = at;
  const r = await s.app.inject({
    method: 'POST',
    url: '/get-online-features',
    payload: { feature_service: 'logged', entities: { user_id: ['u1', 'u2'] } },
  });
  expect(r.statusCode, r.body).toBe(200);
  await s.ctx.featureLog!.flush();
}

const skewAt = (at: number) =>
  skewReport({
    config: resolveConfig(
      { home: s.home, dataDir: join(s.home, 'data'), repo: repo.dir },
      s.home,
      {},
    ),
    repo: s.repo,
    service: 'logged',
    start: at - 1,
    end: at + 1,
  });

beforeAll(async () => {
  await admin.connect();
  await createTopicsReady(admin, [{ topic: TOPIC, numPartitions: 1, replicationFactor: 1 }]);
  repo = tempRepo({ 'features.ts': REPO });
  s = await serveRepo(repo.dir, { clock: () => readAt, storeNow: NOW });
  s.ctx.featureLog = openFeatureLog(
    { dataDir: join(s.home, 'data'), kafka: { brokers: BROKERS, clientId: 'test' } },
    s.ctx.metrics,
    (e) => {
      throw e;
    },
  );
});
afterAll(async () => {
  await s?.close();
  repo?.cleanup();
  await admin.deleteTopics({ topics: [TOPIC], timeout: 10_000 }).catch(() => undefined);
  await admin.disconnect();
});

describe('skew from a stream worker stopped while events arrive', () => {
  it('reports the rows and features the missed events touch, and none once the worker caught up', async () => {
    await produceAndLand(BEFORE, 'part-1.jsonl');
    await streamUntilConsumed();
    // The worker is stopped; two more events arrive (on the topic and in the batch files).
    await produceAndLand(WHILE_STOPPED, 'part-2.jsonl');

    await readLogged(NOW);
    const stale = await skewAt(NOW);
    expect(stale.rows).toBe(2);
    const byFeature = Object.fromEntries(stale.features.map((f) => [f.feature, f]));
    expect(stale.features.map((f) => [f.feature, f.compared, f.differing])).toEqual([
      ['clicks_1h', 2, 2],
      ['spend_7d', 2, 2],
      ['last_kind', 2, 2],
    ]);
    const served = (feature: string) =>
      Object.fromEntries(
        byFeature[feature]!.examples.map((x) => [x.entities.user_id, [x.served, x.offline]]),
      );
    // u1 was served what the worker applied before it stopped; u2 nothing at all.
    expect(served('clicks_1h')).toEqual({ u1: [1, 2], u2: [0, 1] });
    expect(served('spend_7d')).toEqual({ u1: [5, 10], u2: [0, 10] });
    expect(served('last_kind')).toEqual({ u1: ['view', 'click'], u2: [null, 'click'] });

    // The worker runs again, catches up from its checkpoint: the next reads agree.
    await streamUntilConsumed();
    await readLogged(NOW + 1000);
    const caughtUp = await skewAt(NOW + 1000);
    expect(caughtUp.rows).toBe(2);
    expect(caughtUp.features.map((f) => [f.feature, f.compared, f.differing])).toEqual([
      ['clicks_1h', 2, 0],
      ['spend_7d', 2, 0],
      ['last_kind', 2, 0],
    ]);
  });
});

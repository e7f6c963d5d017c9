/**
 * Shared pieces of the stream worker's Kafka tests: random topics (cleaned up), a generated
 * history produced to them, waiting until the store's checkpoints reach the topics' ends, and
 * comparing every stored feature of recommendation_v1 with the reference evaluator.
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Admin, type ConfigResourceTypes } from 'kafkajs';
import { expect } from 'vitest';
import {
  generateRecords,
  produceToKafka,
  type GeneratedRecord,
} from '../../examples/ecommerce/datagen/index.ts';
import { createOnlineStore } from '../../online/create-online-store.ts';
import type { OnlineStore } from '../../online/online-store.ts';
import { floatsEqual } from '../../aggregation/index.ts';
import { loadRepository } from '../../definitions/load.ts';
import { referenceFeatures } from '../../reference/index.ts';
import type { Repository } from '../../definitions/repository.ts';
import { encodeEntityKey } from '../../aggregation/tiles.ts';
import { StreamWorker, type StreamWorkerOptions } from '../../streaming/stream-worker.ts';
import { createTopicsReady } from '../../core/create-topics.ts';

export const BROKERS = [process.env.LARDER_KAFKA_BROKERS ?? '127.0.0.1:9092'];
export const REDIS_URL = process.env.LARDER_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
export const kafka = new Kafka({
  clientId: 'larder-stream-test',
  brokers: BROKERS,
  logLevel: logLevel.NOTHING,
});

/**
 * The consumer-group session timeout of test workers that are killed with -9: a killed worker
 * leaves its group (and a restarted one gets its partitions) once this expires. 3 s, or the
 * broker's `group.min.session.timeout.ms` when that is higher: scripts/services.sh starts the
 * broker with 1 s; one started before that (Kafka's default, 6 s) refuses a shorter timeout.
 */
export async function killableSessionTimeoutMs(): Promise<number> {
  sessionTimeout ??= (async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const { brokers } = await admin.describeCluster();
      const { resources } = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [
          {
            type: BROKER,
            name: String(brokers[0]!.nodeId),
            configNames: ['group.min.session.timeout.ms'],
          },
        ],
      });
      const min = Number(resources[0]?.configEntries[0]?.configValue ?? 6000);
      return Math.max(3000, min);
    } finally {
      await admin.disconnect();
    }
  })();
  return sessionTimeout;
}
let sessionTimeout: Promise<number> | undefined;
/** `ConfigResourceTypes.BROKER` (kafkajs's enums are not named exports under ESM). */
const BROKER = 4 as ConfigResourceTypes;

export interface TestTopics {
  user_events: string;
  transactions: string;
  /** LARDER_TOPIC_* overrides: the env of a `larder stream` process, the worker's `topics`. */
  env: Record<string, string>;
  all: string[];
}

/** Creates `test-<uuid>-…` topics; `cleanup` deletes them and their DLQs. */
export async function createTestTopics(
  partitions: number,
): Promise<TestTopics & { cleanup: () => Promise<void> }> {
  const id = randomUUID();
  const t = { user_events: `test-${id}-user-events`, transactions: `test-${id}-transactions` };
  const admin: Admin = kafka.admin();
  await admin.connect();
  await createTopicsReady(
    admin,
    [t.user_events, t.transactions].map((topic) => ({
      topic,
      numPartitions: partitions,
      replicationFactor: 1,
    })),
  );
  return {
    ...t,
    env: { LARDER_TOPIC_USER_EVENTS: t.user_events, LARDER_TOPIC_TRANSACTIONS: t.transactions },
    all: [t.user_events, t.transactions],
    cleanup: async () => {
      const existing = new Set(await admin.listTopics());
      const topics = [
        t.user_events,
        t.transactions,
        `${t.user_events}.dlq`,
        `${t.transactions}.dlq`,
      ].filter((x) => existing.has(x));
      if (topics.length > 0)
        await admin.deleteTopics({ topics, timeout: 10_000 }).catch(() => undefined);
      await admin.disconnect();
    },
  };
}

export interface History {
  records: GeneratedRecord[];
  events: Record<string, unknown>[];
  transactions: Record<string, unknown>[];
  users: string[];
  products: string[];
  /** Time after the last event: the earliest read time of {@link expectReferenceValues}. */
  t: number;
}

/** A generated history ending a minute before now (so nothing is too old to apply). */
export function history(opts: {
  events: number;
  users?: number;
  products?: number;
  days?: number;
  seed?: number;
}): History {
  const users = opts.users ?? 40;
  const products = opts.products ?? 30;
  const end = Date.now() - 60_000;
  const records = [
    ...generateRecords({
      users,
      products,
      days: opts.days ?? 2,
      events: opts.events,
      seed: opts.seed ?? 7,
      end,
    }),
  ];
  return {
    records,
    events: records
      .filter((r) => r.topic === 'user_events')
      .map((r) => r.record as unknown as Record<string, unknown>),
    transactions: records
      .filter((r) => r.topic === 'transactions')
      .map((r) => r.record as unknown as Record<string, unknown>),
    users: Array.from({ length: users }, (_, i) => `u${String(i).padStart(5, '0')}`).concat(
      'u-never',
    ),
    products: Array.from({ length: products }, (_, i) => `p${String(i).padStart(5, '0')}`).concat(
      'p-never',
    ),
    t: end + 30_000,
  };
}

/**
 * Produces `h` to `topics`, `rate` user_events per second (0: at once). With `pace`, the rate
 * holds until `pace.hurry` is set, then the rest goes at once (produceToKafka reads its `rate`
 * before each pause, and pauses at most a quarter second here): a test that needs records
 * still arriving at some point does not wait out the whole history after it.
 */
export async function produceHistory(
  topics: TestTopics,
  h: History,
  rate = 0,
  pace?: { hurry: boolean },
): Promise<void> {
  await produceToKafka({
    brokers: BROKERS,
    topics: { user_events: topics.user_events, transactions: topics.transactions },
    get rate() {
      return pace?.hurry ? 0 : rate;
    },
    records: h.records,
    batchSize: pace && rate > 0 ? Math.max(1, Math.ceil(rate / 4)) : 1000,
  });
}

/** Resolves when `group`'s stored checkpoints reach the end of every topic. */
export async function waitConsumed(
  store: OnlineStore,
  group: string,
  topics: readonly string[],
  timeoutMs = 90_000,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await Promise.all(topics.map((t) => admin.fetchTopicOffsets(t)));
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      let done = true;
      for (let i = 0; i < topics.length && done; i++) {
        // A store that is still reconnecting (after an outage test restarts it) refuses
        // commands at once with a retriable error: that is "not yet", not a failure.
        const cks = await store.readCheckpoints(group, topics[i]!).catch((e: unknown) => {
          if ((e as { retriable?: boolean }).retriable === true) return null;
          throw e;
        });
        if (cks === null) {
          done = false;
          break;
        }
        for (const e of ends[i]!) {
          const c = cks.find((x) => x.partition === e.partition);
          if (Number(e.high) > 0 && (!c || c.offset < Number(e.high) - 1)) done = false;
        }
      }
      if (done) return;
      if (performance.now() > deadline) throw new Error(`not consumed within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await admin.disconnect();
  }
}

export const loadFeatures = (): Promise<Repository> =>
  loadRepository('examples/ecommerce/features');

/**
 * The stored (not on-demand) features of recommendation_v2 (⊃ recommendation_v1) and risk_v1,
 * each once (both hold user_sessions).
 */
export const storedFeatures = (repo: Repository): ReturnType<Repository['resolveFeatures']> =>
  [
    ...repo.resolveFeatures({ service: 'recommendation_v2' }),
    ...repo.resolveFeatures({ service: 'risk_v1' }),
  ].filter(
    (f, i, all) =>
      !f.onDemand && all.findIndex((g) => g.view === f.view && g.feature === f.feature) === i,
  );

/** How far after the call {@link expectReferenceValues} reads: more than its reads take. */
const READ_AHEAD_MS = 30_000;

/**
 * Online reads == the reference evaluator, every stored feature of recommendation_v2 (all of
 * recommendation_v1, plus lists, distinct counts, the user × product view and sessions) and
 * risk_v1 (previous-event relations), every user and product. Call it once every record is
 * applied (waitConsumed).
 *
 * The read time is `h.t` or, when that has passed, {@link READ_AHEAD_MS} after now: stores drop
 * and prune tiles and states by the wall clock of each write (a tile that cannot serve a read at
 * or after that time is gone), so a read time before the last write is not exact — a worker
 * writing a minute after `history()` made `h.t` loses the oldest tile of the 1 h windows at `h.t`.
 * Ahead of now, nothing expires while the reads run (checked).
 */
export async function expectReferenceValues(
  repo: Repository,
  store: OnlineStore,
  h: History,
): Promise<number> {
  const t = Math.max(h.t, Date.now() + READ_AHEAD_MS);
  const features = storedFeatures(repo);
  const n = Math.max(h.users.length, h.products.length);
  const rows = Array.from({ length: n }, (_, i) => ({
    user_id: h.users[i % h.users.length]!,
    product_id: h.products[i % h.products.length]!,
    event_timestamp: t,
  }));
  // The store first, before `t`; the reference (slow, pure) after.
  const views = [...new Set(features.map((f) => f.view))].map((view) => {
    const spec = repo.featureViews.get(view)!.spec;
    const keys = spec.entities.map((e) => (e === 'user' ? 'user_id' : 'product_id'));
    const names = features.filter((f) => f.view === view).map((f) => f.feature);
    return { view, spec, keys, names };
  });
  const read: Awaited<ReturnType<OnlineStore['readMany']>> = [];
  for (const { spec, keys, names } of views) {
    const [res] = await store.readMany([
      {
        view: spec,
        features: names,
        entityKeys: rows.map((r) => encodeEntityKey(keys.map((k) => r[k]))),
        t,
      },
    ]);
    read.push(res!);
  }
  expect(Date.now(), 'the reads ended before their read time').toBeLessThan(t);
  const want = referenceFeatures(
    repo,
    { user_events_batch: h.events, transactions_batch: h.transactions },
    rows,
    features,
    { fullFeatureNames: true },
  );
  let compared = 0;
  views.forEach(({ view, keys, names }, v) => {
    const key = keys.join('×');
    rows.forEach((r, i) => {
      names.forEach((name, j) => {
        const got = read[v]!.rows[i]![j]!.value;
        const exp = want[i]![`${view}__${name}`] ?? null;
        const same =
          typeof exp === 'number' && typeof got === 'number'
            ? floatsEqual(exp, got)
            : Array.isArray(exp) && Array.isArray(got)
              ? JSON.stringify(exp) === JSON.stringify(got)
              : exp === got;
        if (!same)
          expect.fail(
            `${view}:${name} for ${keys.map((k) => r[k]).join('×')} (${key}) at ${new Date(t).toISOString()}: online ${JSON.stringify(got)} vs reference ${JSON.stringify(exp)}`,
          );
        compared++;
      });
    });
  });
  return compared;
}

/** A Redis online store for `repo`'s views on its own namespace; `close` tears it down. */
export async function openTestStore(
  repo: Repository,
  namespace = `test-${randomUUID()}`,
): Promise<{ store: OnlineStore; close: () => Promise<void> }> {
  const store = createOnlineStore(
    { type: 'redis', url: REDIS_URL },
    { namespace, views: [...repo.featureViews.values()].map((v) => v.spec) },
  );
  await store.init();
  return {
    store,
    close: async () => {
      await store.teardown();
      await store.close();
    },
  };
}

/**
 * A stream worker on the test brokers and `topics` (6 s session timeout), started; `cleanups`
 * stops it. `options` adds to or overrides those settings.
 */
export async function startTestWorker(
  store: OnlineStore,
  topics: TestTopics,
  cleanups: (() => Promise<void>)[],
  options: Omit<StreamWorkerOptions, 'store' | 'brokers' | 'namespace' | 'topics'>,
): Promise<StreamWorker> {
  const worker = new StreamWorker({
    store,
    brokers: BROKERS,
    namespace: store.namespace,
    topics: topics.env,
    sessionTimeoutMs: 6000,
    ...options,
  });
  cleanups.push(() => worker.stop());
  await worker.start();
  return worker;
}

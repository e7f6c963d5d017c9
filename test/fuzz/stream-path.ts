/**
 * The streamed path of the differential fuzzer: the case's records produced to fresh topics in
 * arrival order and consumed by a stream worker process (`stream-child.ts`, clock pinned to
 * "now") writing to the given online store, killed with SIGKILL twice — once after the first
 * half, once while it applies the second — and restarted; then online reads against the
 * reference. Used by the Redis and the Redis Cluster fuzz tests, and with an Avro producer
 * (`avro-path.ts`: Confluent-wire Avro where the `.avsc` can carry a record, its schema
 * registry given to the worker) by the Avro one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OnlineStoreConfig } from '../../config/config.ts';
import type { GeneratedRecord } from '../../examples/ecommerce/datagen/gen-data-options.ts';
import { produceToKafka } from '../../examples/ecommerce/datagen/index.ts';
import { createOnlineStore } from '../../online/create-online-store.ts';
import {
  BROKERS,
  createTestTopics,
  kafka,
  killableSessionTimeoutMs,
  waitConsumed,
  type TestTopics,
} from '../streaming/stream-fixture.ts';
import { tempDir } from '../support/temp-repo.ts';
import type { AvroProducer } from './avro-path.ts';
import { buildRepository } from './definitions.ts';
import { checkOnline, onlineAcceptedCase, type Mismatch } from './differential.ts';
import type { FuzzCase } from './fuzz-case.ts';

/** What the worker child reads (`stream-child.ts`). */
export interface ChildCase {
  plans: FuzzCase['plans'];
  now: number;
  namespace: string;
  store: OnlineStoreConfig;
  brokers: string[];
  env: Record<string, string>;
  /** The Avro producer's schema registry (none: JSON only). */
  schemaRegistryUrl?: string;
  /** The worker's session timeout: a killed worker's partitions move once it expires. */
  sessionTimeoutMs: number;
}

/** Worker processes and cleanups of one test; `cleanup()` in `afterEach`. */
export class StreamPath {
  readonly #children = new Set<ChildProcess>();
  readonly #cleanups: (() => Promise<void> | void)[] = [];

  /** Records the Avro producer sent as Avro, and as JSON (what its `.avsc` cannot carry). */
  readonly sent = { avro: 0, json: 0 };

  constructor(
    readonly store: OnlineStoreConfig,
    /** Produce Avro (Confluent wire format) where the `.avsc` carries the record; default JSON. */
    readonly avro?: AvroProducer,
  ) {}

  /** Runs `fn` at {@link cleanup} (last added, first run). */
  defer(fn: () => Promise<void> | void): void {
    this.#cleanups.push(fn);
  }

  async cleanup(): Promise<void> {
    for (const c of this.#children) c.kill('SIGKILL');
    this.#children.clear();
    for (const c of this.#cleanups.splice(0).reverse()) await c();
  }

  #startWorker(file: string): ChildProcess {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/fuzz/stream-child.ts', file], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr!.on('data', (d: Buffer) => process.stderr.write(`[fuzz worker] ${d.toString()}`));
    this.#children.add(child);
    child.on('exit', () => this.#children.delete(child));
    return child;
  }

  /** The records in arrival order, keyed as `produceToKafka` keys them, Avro where it can. */
  async #produceAvro(
    avro: AvroProducer,
    topics: TestTopics,
    records: FuzzCase['records'],
  ): Promise<void> {
    const messages: Record<
      'user_events' | 'transactions',
      { key: string | null; value: string | Buffer }[]
    > = { user_events: [], transactions: [] };
    for (const { source, record } of records) {
      const wire = avro.encode(source, record);
      this.sent[wire ? 'avro' : 'json']++;
      const key = (record.userId ?? record.sessionId) as string | null;
      messages[source].push({ key, value: wire ?? JSON.stringify(record) });
    }
    const producer = kafka.producer();
    await producer.connect();
    try {
      // One batch: each partition keeps the arrival order.
      await producer.sendBatch({
        acks: -1,
        topicMessages: (['user_events', 'transactions'] as const)
          .filter((t) => messages[t].length > 0)
          .map((t) => ({ topic: topics[t], messages: messages[t] })),
      });
    } finally {
      await producer.disconnect();
    }
  }

  /** Streams the case through killed and restarted worker processes, then reads the store. */
  async check(path: string, c: FuzzCase): Promise<Mismatch[]> {
    const repo = buildRepository(c.plans, c.onDemand);
    const topics = await createTestTopics(2);
    this.defer(topics.cleanup);
    const namespace = `fuzz-${randomUUID()}`;
    const store = createOnlineStore(this.store, {
      namespace,
      views: [...repo.featureViews.values()].map((v) => v.spec),
      clock: () => c.now,
    });
    await store.init();
    this.defer(async () => {
      await store.teardown();
      await store.close();
    });
    const tmp = tempDir();
    this.defer(tmp.cleanup);
    const file = join(tmp.dir, 'case.json');
    const child: ChildCase = {
      plans: c.plans,
      now: c.now,
      namespace,
      store: this.store,
      brokers: BROKERS,
      env: topics.env,
      ...(this.avro ? { schemaRegistryUrl: this.avro.registryUrl } : {}),
      sessionTimeoutMs: await killableSessionTimeoutMs(),
    };
    writeFileSync(file, JSON.stringify(child));
    const group = `${namespace}-stream`;
    const half = Math.ceil(c.records.length / 2);
    const produce = (records: FuzzCase['records']): Promise<unknown> =>
      this.avro ? this.#produceAvro(this.avro, topics, records) : produceJson(topics, records);
    await produce(c.records.slice(0, half));
    let worker = this.#startWorker(file);
    await waitConsumed(store, group, topics.all);
    await kill9(worker);
    await produce(c.records.slice(half));
    worker = this.#startWorker(file);
    // Kill it again as soon as it has applied anything of the second half.
    const before = await checkpointSum(store, group, topics);
    for (let i = 0; i < 600 && (await checkpointSum(store, group, topics)) === before; i++)
      await new Promise((r) => setTimeout(r, 50));
    await kill9(worker);
    worker = this.#startWorker(file);
    await waitConsumed(store, group, topics.all);
    await kill9(worker);
    // The worker dead-letters records later than now + the skew or with a join key over
    // ingest.maxKeyBytes.
    return checkOnline(path, store, repo, onlineAcceptedCase(c));
  }
}

const kill9 = async (child: ChildProcess): Promise<void> => {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
};

const produceJson = (topics: TestTopics, records: FuzzCase['records']): Promise<unknown> =>
  produceToKafka({
    brokers: BROKERS,
    topics: { user_events: topics.user_events, transactions: topics.transactions },
    rate: 0,
    records: records.map((r) => ({ topic: r.source, record: r.record }) as GeneratedRecord),
  });

async function checkpointSum(
  store: { readCheckpoints: (g: string, t: string) => Promise<{ offset: number }[]> },
  group: string,
  topics: TestTopics,
): Promise<number> {
  let sum = 0;
  for (const t of topics.all)
    for (const c of await store.readCheckpoints(group, t)) sum += c.offset;
  return sum;
}

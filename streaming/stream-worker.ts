/**
 * The stream worker (`larder stream`): a kafkajs consumer group (`<namespace>-stream`) over
 * the topic of every stream source. Per batch and partition it decodes and validates the
 * records, sends bad ones to `<topic>.dlq`, skips records too old to change a served value
 * (`maxRecordAgeMs`: the longest window or lifetime TTL of the source's views), folds the
 * rest with `streaming/apply-records.ts` and hands tiles, lifetime states and the partition's
 * checkpoint to `OnlineStore.applyStreamBatch` in one atomic write.
 *
 * Failures (`streaming/failure-kind.ts`): a transient one is retried with backoff while the
 * partition waits (`/ready`, `larder_stream_retrying`); a permanent one is narrowed down by
 * bisecting the batch, and the records at fault go to the DLQ as `rejected`.
 *
 * Exactly once in effect: the online store, not Kafka, is the source of truth for positions.
 * The first batch of a partition after each (re)assignment reads the stored checkpoint, drops
 * records at or before it and seeks to checkpoint + 1 when Kafka's committed offset is behind;
 * the store refuses a batch its checkpoint already covers (`duplicate`) or partly covers
 * (`overlap`: another consumer got there first; re-read and seek). DLQ records are produced
 * (acks=all) before the checkpoint that covers them, offline-sink appends are durable before it
 * (and skip offsets the offline store already holds: `offline-sink.ts`).
 * Offsets are also committed to Kafka (advisory: lag tools, faster restarts).
 *
 * @example
 * const worker = new StreamWorker({ repo, store, brokers: ['127.0.0.1:9092'], namespace: 'larder' });
 * await worker.start();
 * process.once('SIGTERM', () => void worker.stop());
 */
import {
  Kafka,
  logLevel,
  type Batch,
  type logCreator,
  type Consumer,
  type EachBatchPayload,
  type KafkaMessage,
  type Message,
  type Producer,
} from 'kafkajs';
import { setTimeout as sleep } from 'node:timers/promises';
import { crashPoint } from '../config/test-crash.ts';
import type { OnlineStore, StreamBatchOutcome } from '../online/online-store.ts';
import { LarderError } from '../core/errors.ts';
import type { Repository } from '../definitions/repository.ts';
import { foldRecords } from './apply-records.ts';
import { createAvroSchemas } from './avro-schemas.ts';
import { deadLetter } from './dead-letter.ts';
import { failureKind, failureText } from './failure-kind.ts';
import { OfflineSink } from './offline-sink.ts';
import type { OfflineStore } from '../offline/offline-store.ts';
import { observeMany } from './observe-many.ts';
import { createStreamMetrics, type StreamMetrics } from './stream-metrics.ts';
import { streamSources, type StreamSourceRuntime } from './stream-source.ts';
import { createTopicsReady } from '../core/create-topics.ts';

export interface StreamWorkerOptions {
  repo: Repository;
  /** An initialized online store; the worker does not close it. */
  store: OnlineStore;
  brokers: readonly string[];
  namespace: string;
  clientId?: string;
  /** Topic overrides keyed by `LARDER_TOPIC_<NAME>` (`config.stream.topics`; default none). */
  topics?: Readonly<Record<string, string>>;
  /** A schema registry for Avro sources (`config.stream.schemaRegistryUrl`; default none). */
  schemaRegistryUrl?: string | null;
  /** Partitions of the source topics the worker creates when missing (default 6). */
  topicPartitions?: number;
  /** Stream sources to consume (default: all). */
  sources?: readonly string[];
  /** Per-source encoding overrides. */
  encodings?: Readonly<Record<string, 'json' | 'avro'>>;
  /** `--offline-sink`: the offline store valid records are appended to; none when absent. */
  offlineSink?: Pick<OfflineStore, 'appendRecords'>;
  metrics?: StreamMetrics;
  /** Records per store write (default 5000). */
  maxBatchRecords?: number;
  /**
   * Partitions whose batches are handled at once (default 3): one decodes and folds while
   * another waits for its store write. The writes themselves (dead letters, offline sink,
   * store) still run one at a time per worker, in the order their batches reach that step.
   */
  partitionsConsumedConcurrently?: number;
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  maxWaitTimeInMs?: number;
  clock?: () => number;
  /**
   * The shared ingest rules (`config.ingest`): records stamped later than `clock()` +
   * `maxFutureSkewMs` (default 5 minutes) or with a join key over `maxKeyBytes` (default 1024)
   * go to the DLQ.
   */
  ingest?: { maxFutureSkewMs?: number; maxKeyBytes?: number };
  /** Backoff between retries of a transient failure, ms: first delay, doubled up to `max` (default 100, 5000). */
  retryBackoffMs?: { initial: number; max: number };
  /** The Kafka client's log level and logger (`larder stream`'s JSON logs); default: errors on the console. */
  kafkaLog?: { level: logLevel; logCreator: logCreator };
  /**
   * How long `start()` retries a transient Kafka failure (a broker not up yet, a topic whose
   * partitions have no leader yet: "This server does not host this topic-partition"), ms,
   * backing off from 250 ms to 5 s; default 60 000. Called with each failure retried.
   */
  startRetry?: { forMs?: number; onRetry?: (e: unknown, attempt: number) => void };
  /** The Kafka client's own retries of a request (kafkajs `retry`; default kafkajs's: 5, from 300 ms). */
  kafkaRetry?: { retries?: number; initialRetryTime?: number; maxRetryTime?: number };
  /** Called after each store write (benchmarks): freshness of each record in ms, lag after it. */
  onBatchApplied?: (info: {
    topic: string;
    partition: number;
    records: number;
    freshnessMs: number[];
    lag: number;
  }) => void;
}

type Payload = Pick<EachBatchPayload, 'heartbeat' | 'isRunning' | 'isStale'>;

/** The batch was given up because the worker stops or lost the partition. */
const STOPPED = Symbol('stopped');
type Stopped = typeof STOPPED;

interface Position {
  next: number;
  pending: number | null;
  sought: boolean;
}

/** Totals since start, for tests and the CLI's summary. */
export interface StreamWorkerStats {
  records: number;
  applied: number;
  deadLettered: number;
  skippedTooOld: number;
  duplicates: number;
  overlaps: number;
  /** Store writes retried after a transient failure. */
  retries: number;
  /** Records sent to the DLQ because applying them failed permanently (isolated by bisection). */
  rejected: number;
  /** Times this worker joined its consumer group (1 unless the group rebalanced). */
  groupJoins: number;
}

export class StreamWorker {
  readonly group: string;
  readonly metrics: StreamMetrics;
  readonly stats: StreamWorkerStats = {
    records: 0,
    applied: 0,
    deadLettered: 0,
    skippedTooOld: 0,
    duplicates: 0,
    overlaps: 0,
    retries: 0,
    rejected: 0,
    groupJoins: 0,
  };
  readonly #o: StreamWorkerOptions;
  readonly #sources: Map<string, StreamSourceRuntime>;
  readonly #consumer: Consumer;
  readonly #producer: Producer;
  readonly #kafka: Kafka;
  readonly #sink: OfflineSink | null;
  readonly #clock: () => number;
  readonly #positions = new Map<string, Promise<Position>>();
  /** The tail of the queue of write steps (see {@link StreamWorker.#oneAtATime}). */
  #writeTurn: Promise<void> = Promise.resolve();
  #started = false;
  #stopping: Promise<void> | null = null;

  constructor(options: StreamWorkerOptions) {
    this.#o = options;
    this.group = `${options.namespace}-stream`;
    this.metrics = options.metrics ?? createStreamMetrics();
    this.#clock = options.clock ?? Date.now;
    const avscFiles = Object.fromEntries(
      [...options.repo.streamSources.values()].map((s) => [s.spec.name, s.spec.avroSchema]),
    );
    const avro = createAvroSchemas({
      registryUrl: options.schemaRegistryUrl || undefined,
      root: options.repo.root,
      avscFiles,
    });
    this.#sources = streamSources(options.repo, {
      avro,
      ...(options.topics ? { topics: options.topics } : {}),
      ...(options.sources ? { only: options.sources } : {}),
      ...(options.encodings ? { encodings: options.encodings } : {}),
      ingest: {
        clock: this.#clock,
        maxFutureSkewMs: options.ingest?.maxFutureSkewMs ?? 5 * 60_000,
        maxKeyBytes: options.ingest?.maxKeyBytes ?? 1024,
      },
    });
    this.#kafka = new Kafka({
      clientId: options.clientId ?? `${options.namespace}-stream`,
      brokers: [...options.brokers],
      logLevel: options.kafkaLog?.level ?? logLevel.ERROR,
      ...(options.kafkaLog ? { logCreator: options.kafkaLog.logCreator } : {}),
      ...(options.kafkaRetry ? { retry: options.kafkaRetry } : {}),
    });
    this.#consumer = this.#kafka.consumer({
      groupId: this.group,
      sessionTimeout: options.sessionTimeoutMs ?? 10_000,
      heartbeatInterval: options.heartbeatIntervalMs ?? 1000,
      rebalanceTimeout: 20_000,
      maxWaitTimeInMs: options.maxWaitTimeInMs ?? 50,
      maxBytesPerPartition: 4 << 20,
    });
    this.#producer = this.#kafka.producer({ allowAutoTopicCreation: false });
    this.#sink = options.offlineSink ? new OfflineSink(options.repo, options.offlineSink) : null;
    // A new generation: every position is read again from the store.
    this.#consumer.on(this.#consumer.events.GROUP_JOIN, () => {
      this.stats.groupJoins++;
      this.#positions.clear();
    });
  }

  /** Topics consumed (after overrides). */
  get topics(): string[] {
    return [...this.#sources.keys()];
  }

  /**
   * Connects, creates missing source and DLQ topics, joins the group and starts consuming
   * (returns at once). A transient Kafka failure on the way (see `startRetry`) is retried from
   * the start until `startRetry.forMs` has passed; a permanent one is thrown at once.
   */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    const { forMs = 60_000, onRetry } = this.#o.startRetry ?? {};
    const until = Date.now() + forMs;
    for (let attempt = 1, delay = 250; ; attempt++, delay = Math.min(delay * 2, 5000)) {
      try {
        return await this.#startOnce();
      } catch (e) {
        if (failureKind(e) === 'permanent' || Date.now() + delay > until) throw e;
        onRetry?.(e, attempt);
        // Leave the group half-joined state behind before the next attempt.
        await this.#consumer.disconnect().catch(() => undefined);
        await this.#producer.disconnect().catch(() => undefined);
        await sleep(delay);
      }
    }
  }

  async #startOnce(): Promise<void> {
    const admin = this.#kafka.admin();
    await admin.connect();
    try {
      // Source topics that do not exist yet are created (so a worker can start before any
      // producer), with `topicPartitions` partitions (default 6: room for 6 workers).
      const existing = new Set(await admin.listTopics());
      const partitions = this.#o.topicPartitions ?? 6;
      const wanted = [...this.#sources.values()].flatMap((s) => [
        { topic: s.topic, numPartitions: partitions },
        { topic: s.dlqTopic, numPartitions: 1 },
      ]);
      const missing = wanted.filter((t) => !existing.has(t.topic));
      if (missing.length > 0) await createTopicsReady(admin, missing).catch(() => false);
    } finally {
      await admin.disconnect();
    }
    await this.#producer.connect();
    await this.#consumer.connect();
    await this.#consumer.subscribe({ topics: this.topics, fromBeginning: true });
    await this.#consumer.run({
      autoCommit: true,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.#o.partitionsConsumedConcurrently ?? 3,
      eachBatch: (p) => this.#eachBatch(p),
    });
  }

  /** Finishes the batch in hand (checkpointed), leaves the group, disconnects. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      await this.#consumer.disconnect();
      await this.#producer.disconnect();
    })();
    return this.#stopping;
  }

  #position(src: StreamSourceRuntime, partition: number): Promise<Position> {
    const key = `${src.topic}\u0000${partition}`;
    let p = this.#positions.get(key);
    if (!p) {
      p = this.#o.store.readCheckpoints(this.group, src.topic).then((all) => {
        const c = all.find((x) => x.partition === partition);
        return { next: (c?.offset ?? -1) + 1, pending: c?.pending ?? null, sought: false };
      });
      this.#positions.set(key, p);
      p.catch(() => this.#positions.delete(key));
    }
    return p;
  }

  async #eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload;
    const src = this.#sources.get(batch.topic);
    if (!src || batch.messages.length === 0) return;
    const pos = await this.#retrying(batch.topic, batch.partition, payload, () =>
      this.#position(src, batch.partition),
    );
    if (pos === STOPPED) return;
    const first = Number(batch.messages[0]!.offset);
    if (first > pos.next && !pos.sought) {
      // Kafka's committed offset is ahead of the store: the store wins.
      pos.sought = true;
      this.#consumer.seek({
        topic: batch.topic,
        partition: batch.partition,
        offset: String(pos.next),
      });
      return;
    }
    pos.sought = true;
    const msgs = batch.messages.filter((m) => Number(m.offset) >= pos.next);
    const max = this.#o.maxBatchRecords ?? 5000;
    let i = 0;
    while (i < msgs.length) {
      if (!isRunning() || isStale()) return;
      let end = Math.min(msgs.length, i + max);
      if (pos.pending !== null) {
        // Recovery of a partly applied batch (per-slot stores): no chunk may straddle `pending`.
        const cut = msgs.findIndex((m, j) => j >= i && Number(m.offset) > pos.pending!);
        if (cut !== -1 && cut < end) end = cut;
      }
      const chunk = msgs.slice(i, end);
      i = end;
      const outcome = await this.#applyIsolating(src, batch, chunk, payload, new Set());
      if (outcome === STOPPED) return;
      if (outcome === 'overlap') {
        this.stats.overlaps++;
        this.#positions.delete(`${src.topic}\u0000${batch.partition}`);
        const again = await this.#position(src, batch.partition);
        again.sought = true;
        this.#consumer.seek({
          topic: batch.topic,
          partition: batch.partition,
          offset: String(again.next),
        });
        return;
      }
      const last = Number(chunk[chunk.length - 1]!.offset);
      pos.next = last + 1;
      if (pos.pending !== null && last >= pos.pending) pos.pending = null;
      resolveOffset(chunk[chunk.length - 1]!.offset);
      await heartbeat();
    }
  }

  /**
   * Runs `fn` until it succeeds or fails permanently (rethrown), retrying transient failures
   * with backoff while the partition is still ours; meanwhile the partition is reported on
   * `/ready` and `larder_stream_retrying`. STOPPED when the worker stops or the partition moves.
   */
  async #retrying<T>(
    topic: string,
    partition: number,
    p: Payload,
    fn: () => Promise<T>,
  ): Promise<T | Stopped> {
    const key = `${topic}/${partition}`;
    const labels = { topic, partition: String(partition) };
    const backoff = this.#o.retryBackoffMs ?? { initial: 100, max: 5000 };
    let delay = backoff.initial;
    try {
      for (;;) {
        // A slow store or offline append must not cost the partition: the group's session stays
        // alive while `fn` runs (kafkajs sends a heartbeat only when its interval has passed; a
        // failed one, say a rebalance, is seen by isStale() afterwards).
        const keepAlive = setInterval(
          () => void p.heartbeat().catch(() => undefined),
          this.#o.heartbeatIntervalMs ?? 1000,
        );
        try {
          return await fn();
        } catch (e) {
          if (failureKind(e) === 'permanent') throw e;
          this.stats.retries++;
          this.metrics.retries.inc({ topic, code: e instanceof LarderError ? e.code : 'other' });
          this.metrics.retrying.set(labels, 1);
          const since = this.metrics.waiting.get(key)?.since ?? this.#clock();
          this.metrics.waiting.set(key, { topic, partition, error: failureText(e), since });
        } finally {
          clearInterval(keepAlive);
        }
        if (!p.isRunning() || p.isStale()) return STOPPED;
        await sleep(delay);
        delay = Math.min(backoff.max, delay * 2);
        if (!p.isRunning() || p.isStale()) return STOPPED;
        await p.heartbeat();
      }
    } finally {
      if (this.metrics.waiting.delete(key)) this.metrics.retrying.set(labels, 0);
    }
  }

  /**
   * Applies `chunk`. A permanent failure is the chunk's fault only if the store still takes
   * stream batches (else the store is retried until it does, and the chunk again): then the
   * chunk is bisected, each half applied on its own (with its own checkpoint), down to the
   * single records at fault, which go to the DLQ with the error (`rejected: …`).
   */
  async #applyIsolating(
    src: StreamSourceRuntime,
    batch: Batch,
    chunk: KafkaMessage[],
    p: Payload,
    sent: Set<string>,
  ): Promise<StreamBatchOutcome | Stopped> {
    for (;;) {
      let error: unknown;
      try {
        return await this.#retrying(batch.topic, batch.partition, p, () =>
          this.#apply(src, batch, chunk, sent),
        );
      } catch (e) {
        error = e;
      }
      let refused = false;
      const probe = await this.#retrying(batch.topic, batch.partition, p, () =>
        this.#probe(batch, () => (refused = true)),
      );
      if (probe === STOPPED) return STOPPED;
      if (refused) continue;
      await p.heartbeat();
      if (chunk.length === 1) {
        const reason = `rejected: ${failureText(error)}`.replace(/\s+/g, ' ');
        return this.#retrying(batch.topic, batch.partition, p, () =>
          this.#apply(src, batch, chunk, sent, reason),
        );
      }
      const mid = chunk.length >> 1;
      const left = await this.#applyIsolating(src, batch, chunk.slice(0, mid), p, sent);
      if (left === STOPPED || left === 'overlap') return left;
      return this.#applyIsolating(src, batch, chunk.slice(mid), p, sent);
    }
  }

  /**
   * Whether the store takes stream batches at all: an empty batch its checkpoint covers (a
   * no-op answering `duplicate`). A failure, whatever it is, is the store's: transient.
   */
  async #probe(batch: Batch, onRefused: () => void): Promise<void> {
    try {
      await this.#o.store.applyStreamBatch({
        tiles: [],
        lifetime: [],
        checkpoint: {
          group: this.group,
          topic: batch.topic,
          partition: batch.partition,
          from: -1,
          offset: -1,
        },
      });
    } catch (e) {
      onRefused();
      throw new LarderError(
        'LARDER_STORE_UNAVAILABLE',
        `the online store refuses stream batches: ${failureText(e)}`,
        { cause: e },
      );
    }
  }

  /**
   * Runs `fn` after every write step queued before it has settled: the worker's writes (dead
   * letters, offline sink, store) stay one at a time while several partitions are consumed at
   * once, so its own batches never conflict in the store's optimistic merge.
   */
  async #oneAtATime<T>(fn: () => Promise<T>): Promise<T> {
    const before = this.#writeTurn;
    let done!: () => void;
    this.#writeTurn = new Promise<void>((resolve) => (done = resolve));
    try {
      await before;
      return await fn();
    } finally {
      done();
    }
  }

  /**
   * Decodes, dead-letters, sinks, folds and writes `chunk` with its checkpoint. `rejected`: the
   * chunk is one record that failed permanently; it goes to the DLQ with this reason instead.
   * `sent`: offsets already dead-lettered by an earlier attempt (not sent twice).
   */
  async #apply(
    src: StreamSourceRuntime,
    batch: Batch,
    chunk: KafkaMessage[],
    sent: Set<string>,
    rejected?: string,
  ): Promise<StreamBatchOutcome> {
    const topic = batch.topic;
    const good: Record<string, unknown>[] = [];
    const goodOffsets: number[] = [];
    const fresh: Record<string, unknown>[] = [];
    const bad: { m: KafkaMessage; reason: string }[] = [];
    const cutoff = src.maxAgeMs > 0 ? this.#clock() - src.maxAgeMs : -Infinity;
    let skipped = 0;
    for (const m of chunk) {
      const r = rejected === undefined ? await src.decode(m.value) : null;
      if (!r?.ok) {
        bad.push({ m, reason: r ? r.reason : rejected! });
        continue;
      }
      good.push(r.record);
      goodOffsets.push(Number(m.offset));
      if ((r.record[src.fields.timestampField] as number) < cutoff) skipped++;
      else fresh.push(r.record);
    }
    const first = Number(chunk[0]!.offset);
    const lastOffset = Number(chunk[chunk.length - 1]!.offset);
    // The fold runs outside the write turn: it overlaps another partition's store round trips.
    const folded = foldRecords(this.#o.repo, src.name, fresh, src.fields);
    const outcome = await this.#oneAtATime(async () => {
      // Dead letters and sink lines are durable before the checkpoint that covers them.
      const unsent = bad.filter((b) => !sent.has(b.m.offset));
      if (unsent.length > 0) {
        await this.#producer.send({
          topic: src.dlqTopic,
          acks: -1,
          messages: unsent.map(({ m, reason }): Message =>
            deadLetter(
              { key: m.key, value: m.value, headers: m.headers ?? {} },
              { topic, partition: batch.partition, offset: m.offset },
              reason,
            ),
          ),
        });
        for (const b of unsent) sent.add(b.m.offset);
      }
      if (this.#sink && good.length > 0) {
        await this.#sink.append(
          src,
          batch.partition,
          good.map((record, i) => ({ offset: goodOffsets[i]!, record })),
        );
        crashPoint('after-sink-append');
      }
      return this.#o.store.applyStreamBatch({
        tiles: folded.tiles,
        lifetime: folded.lifetime,
        checkpoint: {
          group: this.group,
          topic,
          partition: batch.partition,
          from: first,
          offset: lastOffset,
        },
      });
    });
    if (outcome === 'overlap') return outcome;
    if (outcome === 'applied') crashPoint('after-store-write');
    const now = this.#clock();
    this.stats.records += chunk.length;
    this.stats.deadLettered += bad.length;
    if (rejected !== undefined) this.stats.rejected += bad.length;
    this.stats.skippedTooOld += skipped;
    for (const b of bad) this.metrics.dlq.inc({ topic, reason: b.reason.split(':')[0]! });
    this.metrics.records.inc({ topic }, chunk.length);
    if (skipped > 0) this.metrics.skippedTooOld.inc({ topic }, skipped);
    this.metrics.batchSize.observe({ topic }, chunk.length);
    const lag = Math.max(0, Number(batch.highWatermark) - lastOffset - 1);
    this.metrics.lag.set({ topic, partition: String(batch.partition) }, lag);
    if (outcome === 'applied' && good.length > 0) {
      this.metrics.validRecords.inc({ topic }, good.length);
      const nulls = src.quality.countNulls(good);
      src.quality.fields.forEach((field, i) => {
        if (nulls[i]! > 0) this.metrics.fieldNulls.inc({ topic, field }, nulls[i]!);
      });
    }
    if (outcome === 'duplicate') this.stats.duplicates += chunk.length;
    else {
      this.stats.applied += fresh.length;
      const freshnessMs = chunk.map((m) => Math.max(0, now - Number(m.timestamp)));
      observeMany(this.metrics.freshness, { topic }, freshnessMs, 1000);
      this.#o.onBatchApplied?.({
        topic,
        partition: batch.partition,
        records: chunk.length,
        freshnessMs,
        lag,
      });
    }
    return outcome;
  }
}

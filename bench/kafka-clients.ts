/**
 * Kafka client benchmark: the consumer ceiling of kafkajs (the client the stream worker is built
 * on) against `@platformatic/kafka` (pure JavaScript, maintained), on the same local broker and
 * the same records. Per client and run, a fresh consumer group reads EVENTS pre-produced
 * user_events from the beginning of one topic (PARTITIONS partitions) at three depths:
 *   - `read`:   messages only (the client's own ceiling);
 *   - `decode`: + the worker's record decoder (JSON parse, schema, ingest rules);
 *   - `fold`:   + folding each batch into tiles with the worker's fold (`foldRecords`, every
 *               view of the example repository), i.e. everything the worker does but the
 *               Redis write.
 * Reports events/s (first message → last) and CPU-seconds per million events (process CPU,
 * user + system: the client's own threads included), per run and the median of RUNS runs.
 *
 *   npm run bench:kafka-clients     # env: EVENTS=300000 PARTITIONS=6 RUNS=3 DEPTHS=read,decode,fold
 */
import { randomUUID } from 'node:crypto';
import { Consumer, MessagesStreamModes } from '@platformatic/kafka';
import { Kafka, logLevel } from 'kafkajs';
import { generateRecords, produceToKafka } from '../examples/ecommerce/datagen/index.ts';
import { loadRepository } from '../definitions/load.ts';
import { createAvroSchemas } from '../streaming/avro-schemas.ts';
import { foldRecords } from '../streaming/apply-records.ts';
import { streamSources } from '../streaming/stream-source.ts';

const EVENTS = Number(process.env.EVENTS ?? 300_000);
const PARTITIONS = Number(process.env.PARTITIONS ?? 6);
const RUNS = Number(process.env.RUNS ?? 3);
const DEPTHS = (process.env.DEPTHS ?? 'read,decode,fold').split(',') as Depth[];
const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
/** Records folded at once by the platformatic consumer (it yields messages one by one). */
const CHUNK = 500;

type Depth = 'read' | 'decode' | 'fold';
type Client = 'kafkajs' | 'platformatic';

const repo = await loadRepository('examples/ecommerce/features');
const avro = createAvroSchemas({
  root: repo.root,
  avscFiles: Object.fromEntries(
    [...repo.streamSources.values()].map((s) => [s.spec.name, s.spec.avroSchema]),
  ),
});
const source = [
  ...streamSources(repo, {
    avro,
    ingest: { clock: Date.now, maxFutureSkewMs: 5 * 60_000, maxKeyBytes: 1024 },
  }).values(),
].find((s) => s.name === 'user_events')!;
const fields = source.fields;

/** The topic holding EVENTS user_events on PARTITIONS partitions (produced once, then reused). */
async function ensureTopic(): Promise<string> {
  const topic = `larder-bench-clients-${EVENTS}-${PARTITIONS}`;
  const kafka = new Kafka({
    clientId: 'bench-clients',
    brokers: BROKERS,
    logLevel: logLevel.ERROR,
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    if ((await admin.listTopics()).includes(topic)) {
      const offsets = await admin.fetchTopicOffsets(topic);
      if (offsets.reduce((n, o) => n + Number(o.high), 0) === EVENTS) return topic;
      await admin.deleteTopics({ topics: [topic] });
    }
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }],
    });
  } finally {
    await admin.disconnect();
  }
  const records = [
    ...generateRecords({
      users: 20_000,
      products: 5_000,
      days: 1,
      events: EVENTS * 2,
      seed: 5,
      end: Date.now() - 60_000,
    }),
  ]
    .filter((r) => r.topic === 'user_events')
    .slice(0, EVENTS);
  if (records.length < EVENTS) throw new Error(`generated only ${records.length} user_events`);
  process.stdout.write(`producing ${EVENTS} user_events to ${topic}…\n`);
  await produceToKafka({
    brokers: BROKERS,
    topics: { user_events: topic, transactions: `${topic}-unused` },
    rate: 0,
    records,
    batchSize: 1000,
  });
  return topic;
}

/** Runs `depth` over a batch of message values; returns how many records it accepted. */
async function process_(depth: Depth, values: (Buffer | null)[]): Promise<number> {
  if (depth === 'read') return values.length;
  const records: Record<string, unknown>[] = [];
  for (const v of values) {
    const r = await source.decode(v);
    if (r.ok) records.push(r.record);
  }
  if (depth === 'fold') foldRecords(repo, source.name, records, fields);
  return records.length;
}

interface Run {
  eventsPerSecond: number;
  cpuSecondsPerMillion: number;
  accepted: number;
}

async function runKafkajs(topic: string, depth: Depth): Promise<Run> {
  const kafka = new Kafka({
    clientId: 'bench-kafkajs',
    brokers: BROKERS,
    logLevel: logLevel.ERROR,
  });
  const consumer = kafka.consumer({
    groupId: `bench-${randomUUID()}`,
    maxWaitTimeInMs: 50,
    maxBytesPerPartition: 4 << 20,
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let seen = 0;
  let accepted = 0;
  let first = 0;
  let cpu0 = process.cpuUsage();
  const done = new Promise<number>((resolve) => {
    void consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: async ({ batch }) => {
        if (first === 0) {
          first = performance.now();
          cpu0 = process.cpuUsage();
        }
        accepted += await process_(
          depth,
          batch.messages.map((m) => m.value),
        );
        seen += batch.messages.length;
        if (seen >= EVENTS) resolve(performance.now());
      },
    });
  });
  const end = await done;
  const cpu = process.cpuUsage(cpu0);
  await consumer.disconnect();
  return result(end - first, cpu, accepted);
}

async function runPlatformatic(topic: string, depth: Depth): Promise<Run> {
  const consumer = new Consumer({
    groupId: `bench-${randomUUID()}`,
    clientId: 'bench-platformatic',
    bootstrapBrokers: BROKERS,
    maxWaitTime: 50,
    maxBytesPerPartition: 4 << 20,
  });
  const stream = await consumer.consume({
    topics: [topic],
    mode: MessagesStreamModes.EARLIEST,
    autocommit: false,
  });
  let seen = 0;
  let accepted = 0;
  let first = 0;
  let cpu0 = process.cpuUsage();
  let chunk: (Buffer | null)[] = [];
  let end = 0;
  for await (const message of stream) {
    if (first === 0) {
      first = performance.now();
      cpu0 = process.cpuUsage();
    }
    chunk.push(message.value as Buffer | null);
    seen++;
    if (chunk.length === CHUNK || seen >= EVENTS) {
      accepted += await process_(depth, chunk);
      chunk = [];
    }
    if (seen >= EVENTS) {
      end = performance.now();
      break;
    }
  }
  const cpu = process.cpuUsage(cpu0);
  await stream.close();
  await consumer.close(true);
  return result(end - first, cpu, accepted);
}

function result(ms: number, cpu: NodeJS.CpuUsage, accepted: number): Run {
  return {
    eventsPerSecond: Math.round(EVENTS / (ms / 1000)),
    cpuSecondsPerMillion: ((cpu.user + cpu.system) / 1e6) * (1e6 / EVENTS),
    accepted,
  };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const topic = await ensureTopic();
const table: string[] = [];
for (const depth of DEPTHS)
  for (const client of ['kafkajs', 'platformatic'] as Client[]) {
    const runs: Run[] = [];
    for (let i = 0; i < RUNS; i++) {
      const r =
        client === 'kafkajs' ? await runKafkajs(topic, depth) : await runPlatformatic(topic, depth);
      if (depth !== 'read' && r.accepted !== EVENTS)
        throw new Error(`${client} ${depth}: accepted ${r.accepted} of ${EVENTS} records`);
      runs.push(r);
      process.stdout.write(
        `${client.padEnd(12)} ${depth.padEnd(6)} run ${i + 1}: ${r.eventsPerSecond} events/s, ${r.cpuSecondsPerMillion.toFixed(1)} CPU-s per 1M\n`,
      );
    }
    table.push(
      `| ${client} | ${depth} | ${median(runs.map((r) => r.eventsPerSecond))} | ${median(runs.map((r) => r.cpuSecondsPerMillion)).toFixed(1)} |`,
    );
  }
process.stdout.write(
  `\nmedians of ${RUNS} runs, ${EVENTS} user_events, ${PARTITIONS} partitions\n| client | depth | events/s | CPU-s per 1M events |\n|---|---|---|---|\n${table.join('\n')}\n`,
);
process.exit(0);

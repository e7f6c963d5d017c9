/**
 * Stream benchmark: one `StreamWorker` (in this process) consuming Kafka into Redis, both on
 * loopback. Per run, on fresh topics (3 partitions) and a fresh namespace:
 *   1. throughput: pre-produce N user_events (plus their transactions), then consume them all;
 *      sustained events/s is measured from the first applied batch to the last, with the
 *      worker's CPU time over the same span (this process's `process.cpuUsage`: the worker alone
 *      runs in it then, Kafka client included), reported as events per worker CPU-second.
 *   2. freshness: a producer child process sends RATE user_events/s for SECONDS s while the
 *      worker keeps up; freshness = Kafka record timestamp → applied in Redis (after the
 *      write), p50/p99/max, and the maximum consumer lag seen.
 * Prints each run and the medians of RUNS runs, with the CPU per 1,000 events of the
 * throughput phase: the worker's, Redis's (INFO cpu: every client of that Redis counts) and,
 * with BROKER_PID, the Kafka broker's (/proc/<pid>/stat, 100 ticks per second), and the worker's
 * event-loop utilization over that phase (the share of the time it was not waiting on I/O).
 *
 *   npm run bench:stream           # env: EVENTS=200000 RATE=10000 SECONDS=30 RUNS=3
 *   SERVICE=recommendation_v1 npm run bench:stream   # only that service's feature views
 *   AT_ONCE=1 npm run bench:stream  # partitions consumed at once (the worker's default: 3)
 */
import { readFileSync } from 'node:fs';
import type { EventLoopUtilization } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { generateRecords, produceToKafka } from '../examples/ecommerce/datagen/index.ts';
import { createOnlineStore } from '../online/create-online-store.ts';
import type { OnlineStore } from '../online/online-store.ts';
import { loadRepository } from '../definitions/load.ts';
import { StreamWorker } from '../streaming/stream-worker.ts';
import { restrictToService } from './restrict-to-service.ts';

const EVENTS = Number(process.env.EVENTS ?? 200_000);
const RATE = Number(process.env.RATE ?? 10_000);
const SECONDS = Number(process.env.SECONDS ?? 30);
const RUNS = Number(process.env.RUNS ?? 3);
const SERVICE = process.env.SERVICE ?? '';
const AT_ONCE = process.env.AT_ONCE ? Number(process.env.AT_ONCE) : undefined;
const BROKER_PID = process.env.BROKER_PID ?? '';
const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const gen = (events: number, seed: number) =>
  generateRecords({ users: 20_000, products: 5_000, days: 1, events, seed, end: Date.now() });

if (process.argv[2] === 'produce') {
  // Child process: produce at a fixed rate, so the producer does not share the worker's CPU.
  const [, , , ue, tx, rate, events, seed] = process.argv;
  await produceToKafka({
    brokers: BROKERS,
    topics: { user_events: ue!, transactions: tx! },
    rate: Number(rate),
    records: gen(Number(events), Number(seed)),
    batchSize: 200,
  });
  process.exit(0);
}

const pct = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** CPU ms used so far by Redis (INFO cpu) and by the broker (NaN without BROKER_PID). */
async function serverCpuMs(redis: Redis): Promise<{ redis: number; broker: number }> {
  const text = await redis.info('cpu');
  const get = (k: string) => Number(new RegExp(`${k}:([\\d.]+)`).exec(text)![1]);
  let broker = NaN;
  if (BROKER_PID) {
    // Fields 14 and 15 of /proc/<pid>/stat (after the parenthesized name): utime, stime in ticks.
    const stat = readFileSync(`/proc/${BROKER_PID}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    broker = (Number(f[11]) + Number(f[12])) * 10;
  }
  return { redis: (get('used_cpu_user') + get('used_cpu_sys')) * 1000, broker };
}

async function waitFor(cond: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface RunResult {
  eventsPerSecond: number;
  /** Events per second of the worker's own CPU time (user + system). */
  eventsPerCpuSecond: number;
  /** CPU ms per 1,000 events of the throughput phase: Redis's and the broker's. */
  redisCpuPer1k: number;
  brokerCpuPer1k: number;
  p50: number;
  p99: number;
  max: number;
  maxLag: number;
}

async function run(i: number): Promise<RunResult> {
  const repo = restrictToService(await loadRepository('examples/ecommerce/features'), SERVICE);
  const id = randomUUID();
  const topics = {
    user_events: `bench-${id}-user-events`,
    transactions: `bench-${id}-transactions`,
  };
  const kafka = new Kafka({
    clientId: 'larder-bench',
    brokers: BROKERS,
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: Object.values(topics).map((topic) => ({ topic, numPartitions: 3 })),
  });
  const store: OnlineStore = createOnlineStore(
    { type: 'redis', url: REDIS },
    { namespace: `bench-${id}`, views: [...repo.featureViews.values()].map((v) => v.spec) },
  );
  await store.init();
  process.stderr.write(`run ${i}: producing ${EVENTS} events…\n`);
  const produced = await produceToKafka({
    brokers: BROKERS,
    topics,
    rate: 0,
    records: gen(EVENTS, i),
    batchSize: 2000,
  });

  let phase: 'throughput' | 'freshness' = 'throughput';
  let events = 0;
  let first = 0;
  let last = 0;
  const cpuMs = (): number => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  let firstCpu = 0;
  let lastCpu = 0;
  const info = new Redis(REDIS);
  let firstServers: Promise<{ redis: number; broker: number }> | null = null;
  let firstElu: EventLoopUtilization | null = null;
  let lastElu: EventLoopUtilization | null = null;
  const freshness: number[] = [];
  const lags = new Map<string, number>();
  let maxLag = 0;
  const worker = new StreamWorker({
    repo,
    store,
    brokers: BROKERS,
    namespace: `bench-${id}`,
    ...(AT_ONCE ? { partitionsConsumedConcurrently: AT_ONCE } : {}),
    topics: {
      LARDER_TOPIC_USER_EVENTS: topics.user_events,
      LARDER_TOPIC_TRANSACTIONS: topics.transactions,
    },
    onBatchApplied: (b) => {
      if (b.topic !== topics.user_events) return;
      if (first === 0) {
        first = performance.now();
        firstCpu = cpuMs();
        firstServers = serverCpuMs(info);
        firstElu = performance.eventLoopUtilization();
      }
      events += b.records;
      last = performance.now();
      if (phase === 'throughput') {
        lastCpu = cpuMs();
        lastElu = performance.eventLoopUtilization();
      }
      if (phase === 'freshness') {
        for (const f of b.freshnessMs) freshness.push(f);
        lags.set(`${b.topic}:${b.partition}`, b.lag);
        maxLag = Math.max(
          maxLag,
          [...lags.values()].reduce((a, x) => a + x, 0),
        );
      }
    },
  });
  await worker.start();
  await waitFor(() => events >= produced.events, 300_000);
  const [s0, s1] = [await firstServers!, await serverCpuMs(info)];
  info.disconnect();
  const firstBatch = Math.min(5000, produced.events / 10);
  const per1k = (ms: number) => Math.round((ms / (events - firstBatch)) * 10_000) / 10;
  const redisCpuPer1k = per1k(s1.redis - s0.redis);
  const brokerCpuPer1k = per1k(s1.broker - s0.broker);
  const elu = Math.round(performance.eventLoopUtilization(lastElu!, firstElu!).utilization * 100);
  const eventsPerSecond = Math.round((events - firstBatch) / ((last - first) / 1000));
  const eventsPerCpuSecond = Math.round((events - firstBatch) / ((lastCpu - firstCpu) / 1000));
  process.stderr.write(
    `run ${i}: ${events} events consumed, ${eventsPerSecond} events/s sustained, ${eventsPerCpuSecond} per worker CPU-second; CPU ms per 1k events: worker ${per1k(lastCpu - firstCpu)}, Redis ${redisCpuPer1k}, broker ${Number.isNaN(brokerCpuPer1k) ? 'n/a (no BROKER_PID)' : brokerCpuPer1k}; worker event loop busy ${elu}%; producing ${RATE}/s for ${SECONDS}s…\n`,
  );

  phase = 'freshness';
  events = 0;
  const n = RATE * SECONDS;
  const child = spawn(
    process.execPath,
    [
      ...process.execArgv,
      import.meta.filename,
      'produce',
      topics.user_events,
      topics.transactions,
      String(RATE),
      String(n),
      String(100 + i),
    ],
    { stdio: 'inherit' },
  );
  await new Promise((r) => child.once('exit', r));
  await waitFor(() => events >= n, 60_000);
  await worker.stop();
  await store.teardown();
  await store.close();
  await admin
    .deleteTopics({
      topics: [...Object.values(topics), ...Object.values(topics).map((t) => `${t}.dlq`)],
    })
    .catch(() => undefined);
  await admin.disconnect();
  freshness.sort((a, b) => a - b);
  const r = {
    eventsPerSecond,
    eventsPerCpuSecond,
    redisCpuPer1k,
    brokerCpuPer1k,
    p50: pct(freshness, 50),
    p99: pct(freshness, 99),
    max: freshness[freshness.length - 1]!,
    maxLag,
  };
  console.log(
    `run ${i}: ${r.eventsPerSecond} events/s sustained (${r.eventsPerCpuSecond} per worker CPU-second; Redis ${r.redisCpuPer1k}, broker ${r.brokerCpuPer1k} CPU ms per 1k events) · freshness at ${RATE}/s: p50 ${r.p50} ms, p99 ${r.p99} ms, max ${r.max} ms · max lag ${r.maxLag}`,
  );
  return r;
}

const results: RunResult[] = [];
for (let i = 1; i <= RUNS; i++) results.push(await run(i));
console.log(
  `${SERVICE || 'every view'}, median of ${RUNS}: ${median(results.map((r) => r.eventsPerSecond))} events/s sustained (target ≥ ${SERVICE === 'recommendation_v1' ? '40000' : SERVICE ? '—' : '15000'}), ${median(results.map((r) => r.eventsPerCpuSecond))} per worker CPU-second, Redis ${median(results.map((r) => r.redisCpuPer1k))} and broker ${median(results.map((r) => r.brokerCpuPer1k))} CPU ms per 1k events · freshness p50 ${median(results.map((r) => r.p50))} ms, p99 ${median(results.map((r) => r.p99))} ms (target ≤ 500), max ${median(results.map((r) => r.max))} ms · max lag ${median(results.map((r) => r.maxLag))}`,
);
process.exit(0);

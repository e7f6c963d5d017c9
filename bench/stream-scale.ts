/**
 * Stream scale-out benchmark: 1, 2, … stream workers, each its own process (one consumer group),
 * on topics with PARTITIONS partitions, consuming EVENTS pre-produced records into Redis.
 * Per worker count: events/s in all (first applied batch → last), each worker's events and
 * CPU-seconds (its own process; Kafka's and Redis's CPU are not in it), events per worker
 * CPU-second, and the scaling factor against one worker. From the per-CPU-second throughput it
 * projects the workers (one core each) that 100,000 events/s needs.
 *
 *   npm run bench:stream-scale     # env: EVENTS=300000 PARTITIONS=6 WORKERS=1,2 RUNS=3
 */
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { generateRecords, produceToKafka } from '../examples/ecommerce/datagen/index.ts';
import { loadRepository } from '../definitions/load.ts';
import { createOnlineStore } from '../online/create-online-store.ts';
import { StreamWorker } from '../streaming/stream-worker.ts';

const EVENTS = Number(process.env.EVENTS ?? 300_000);
const PARTITIONS = Number(process.env.PARTITIONS ?? 6);
const WORKERS = (process.env.WORKERS ?? '1,2').split(',').map(Number);
const RUNS = Number(process.env.RUNS ?? 3);
const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const TARGET = 100_000;

/** A child's report: records applied so far, CPU-seconds of its process, when it applied them. */
interface Report {
  records: number;
  cpuSeconds: number;
  first: number;
  last: number;
}

if (process.argv[2] === 'worker') {
  // Child: one stream worker on the given topics and namespace, reporting to the parent.
  const [, , , namespace, userEvents, transactions] = process.argv;
  const repo = await loadRepository('examples/ecommerce/features');
  const store = createOnlineStore(
    { type: 'redis', url: REDIS },
    { namespace: namespace!, views: [...repo.featureViews.values()].map((v) => v.spec) },
  );
  await store.init();
  const cpu0 = process.cpuUsage();
  const report: Report = { records: 0, cpuSeconds: 0, first: 0, last: 0 };
  const worker = new StreamWorker({
    repo,
    store,
    brokers: BROKERS,
    namespace: namespace!,
    topics: { LARDER_TOPIC_USER_EVENTS: userEvents!, LARDER_TOPIC_TRANSACTIONS: transactions! },
    onBatchApplied: (b) => {
      // Wall-clock (epoch ms) so that the parent can compare children.
      const now = performance.timeOrigin + performance.now();
      if (report.first === 0) report.first = now;
      report.last = now;
      report.records += b.records;
    },
  });
  await worker.start();
  const timer = setInterval(() => {
    const c = process.cpuUsage(cpu0);
    report.cpuSeconds = (c.user + c.system) / 1e6;
    process.send!(report);
  }, 250);
  process.on('message', (m) => {
    if (m !== 'stop') return;
    clearInterval(timer);
    void worker
      .stop()
      .then(() => store.close())
      .then(() => process.exit(0));
  });
} else {
  const median = (xs: number[]): number =>
    [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const kafka = new Kafka({
    clientId: 'bench-scale',
    brokers: BROKERS,
    logLevel: logLevel.NOTHING,
  });

  interface Result {
    workers: number;
    eventsPerSecond: number;
    perWorkerCpuSecond: number;
    perWorker: { records: number; cpuSeconds: number }[];
  }

  async function run(workers: number, seed: number): Promise<Result> {
    const id = randomUUID();
    const topics = { user_events: `bench-${id}-ue`, transactions: `bench-${id}-tx` };
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: Object.values(topics).map((topic) => ({ topic, numPartitions: PARTITIONS })),
    });
    const records = [
      ...generateRecords({
        users: 20_000,
        products: 5_000,
        days: 1,
        events: EVENTS,
        seed,
        end: Date.now() - 60_000,
      }),
    ];
    await produceToKafka({ brokers: BROKERS, topics, rate: 0, records, batchSize: 2000 });
    const total = records.length;
    const namespace = `bench-${id}`;
    const reports = new Map<number, Report>();
    const children = Array.from({ length: workers }, (_, i) => {
      const child = fork(
        import.meta.filename,
        ['worker', namespace, topics.user_events, topics.transactions],
        { execArgv: process.execArgv, stdio: 'inherit' },
      );
      child.on('message', (r) => reports.set(i, r as Report));
      return child;
    });
    const applied = () => [...reports.values()].reduce((n, r) => n + r.records, 0);
    const deadline = Date.now() + 600_000;
    while (applied() < total) {
      if (Date.now() > deadline) throw new Error(`${applied()} of ${total} records in 10 minutes`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 300)); // the last reports with their CPU time
    const rs = [...reports.values()];
    const first = Math.min(...rs.filter((r) => r.first > 0).map((r) => r.first));
    const last = Math.max(...rs.map((r) => r.last));
    await Promise.all(
      children.map(
        (c) =>
          new Promise((r) => {
            c.once('exit', r);
            c.send('stop');
          }),
      ),
    );
    const store = createOnlineStore({ type: 'redis', url: REDIS }, { namespace, views: [] });
    await store.init();
    await store.teardown();
    await store.close();
    await admin
      .deleteTopics({
        topics: [...Object.values(topics), ...Object.values(topics).map((t) => `${t}.dlq`)],
      })
      .catch(() => undefined);
    await admin.disconnect();
    const cpu = rs.reduce((n, r) => n + r.cpuSeconds, 0);
    const result = {
      workers,
      eventsPerSecond: Math.round(total / ((last - first) / 1000)),
      perWorkerCpuSecond: Math.round(total / cpu),
      perWorker: rs.map((r) => ({ records: r.records, cpuSeconds: r.cpuSeconds })),
    };
    console.log(
      `${workers} worker(s), run seed ${seed}: ${result.eventsPerSecond} events/s, ${result.perWorkerCpuSecond} events per worker CPU-second; ${result.perWorker.map((w) => `${w.records} records / ${w.cpuSeconds.toFixed(1)} CPU-s`).join(', ')}`,
    );
    return result;
  }

  const rows: string[] = [];
  let base = 0;
  let perCpu = 0;
  for (const w of WORKERS) {
    const results: Result[] = [];
    for (let i = 1; i <= RUNS; i++) results.push(await run(w, 1000 * w + i));
    const eps = median(results.map((r) => r.eventsPerSecond));
    const cpu = median(results.map((r) => r.perWorkerCpuSecond));
    if (w === WORKERS[0]) base = eps / w;
    perCpu = Math.max(perCpu, cpu);
    rows.push(`| ${w} | ${eps} | ${cpu} | ${(eps / base).toFixed(2)} |`);
  }
  console.log(
    `\nmedians of ${RUNS} runs · ${EVENTS} user_events (+ transactions) · ${PARTITIONS} partitions · all views of the example repository\n| workers | events/s | events per worker CPU-second | scaling vs ${WORKERS[0]} |\n|---|---|---|---|\n${rows.join('\n')}\n` +
      `projection: ${TARGET} events/s needs ${Math.ceil(TARGET / perCpu)} workers at one core each (${perCpu} events per worker CPU-second), plus the cores Kafka and Redis use`,
  );
  process.exit(0);
}

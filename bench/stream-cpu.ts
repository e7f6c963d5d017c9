/**
 * Stream worker CPU harness: the worker's apply path without Kafka, so its CPU can be compared
 * before and after a change on a busy machine. Generated `user_events` and `transactions` are
 * encoded as the producer sends them (JSON), spread over 3 partitions by key, cut into batches
 * of 5,000 per partition (the worker's `maxBatchRecords`) and replayed through the same steps as
 * `StreamWorker#apply`: the record decoder, `foldRecords` and `OnlineStore.applyStreamBatch` on
 * Redis with the partition's checkpoint. Prints CPU milliseconds per 1,000 events for each step
 * (this process's `process.cpuUsage`) and Redis's own CPU (INFO cpu; Redis is shared, so that
 * figure includes other clients' work).
 *
 *   npx tsx bench/stream-cpu.ts          # env: EVENTS=50000 SERVICE=(all views) REDIS_URL
 *   SERVICE=recommendation_v1 npx tsx bench/stream-cpu.ts
 *   node --cpu-prof --cpu-prof-dir=.cache/prof --import tsx bench/stream-cpu.ts
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createOnlineStore } from '../online/create-online-store.ts';
import { loadRepository } from '../definitions/load.ts';
import { foldRecords } from '../streaming/apply-records.ts';
import { createAvroSchemas } from '../streaming/avro-schemas.ts';
import { streamSources } from '../streaming/stream-source.ts';
import { restrictToService } from './restrict-to-service.ts';
import { partitionedMessages, replayBatches } from './stream-replay.ts';

const EVENTS = Number(process.env.EVENTS ?? 50_000);
const SERVICE = process.env.SERVICE ?? '';
const REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0';

const repo = restrictToService(await loadRepository('examples/ecommerce/features'), SERVICE);
const sources = streamSources(repo, {
  avro: createAvroSchemas({ root: repo.root, avscFiles: {} }),
  ingest: { clock: Date.now, maxFutureSkewMs: 5 * 60_000, maxKeyBytes: 1024 },
});
const byName = new Map([...sources.values()].map((s) => [s.name, s]));
const { parts, events } = partitionedMessages(EVENTS, Date.now());

const namespace = `benchcpu-${randomUUID()}`;
const store = createOnlineStore(
  { type: 'redis', url: REDIS },
  { namespace, views: [...repo.featureViews.values()].map((v) => v.spec) },
);
await store.init();
const info = new Redis(REDIS);
const redisCpu = async (): Promise<number> => {
  const text = await info.info('cpu');
  const get = (k: string) => Number(new RegExp(`${k}:([\\d.]+)`).exec(text)![1]);
  return (get('used_cpu_user') + get('used_cpu_sys')) * 1000;
};

let tiles = 0;
let lifetime = 0;
const r0 = await redisCpu();
const w0 = performance.now();
const spent = await replayBatches({
  parts,
  sources: byName,
  fold: (source, records, fields) => foldRecords(repo, source, records, fields),
  store,
  group: `${namespace}-stream`,
  onFolded: (folded) => {
    tiles += folded.tiles.length;
    lifetime += folded.lifetime.length;
  },
});
const wall = performance.now() - w0;
const redis = (await redisCpu()) - r0;
await store.teardown();
await store.close();
info.disconnect();
const per1k = (ms: number) => ((ms / events) * 1000).toFixed(1);
const total = spent.decode + spent.fold + spent.store;
console.log(
  `${SERVICE || 'all views'}: ${events} user_events (+ transactions), ${tiles} tile and ${lifetime} lifetime writes · worker CPU ms per 1k events: decode ${per1k(spent.decode)}, fold ${per1k(spent.fold)}, store ${per1k(spent.store)}, total ${per1k(total)} (${Math.round((events / total) * 1000)} events per CPU-s) · Redis CPU ${per1k(redis)} ms per 1k · wall ${(wall / 1000).toFixed(1)} s`,
);
process.exit(0);

/**
 * A stream worker for one fuzz case, in its own process so the Kafka tests can kill it with
 * SIGKILL: `node --import tsx test/fuzz/stream-child.ts CASE.json`. The JSON (`ChildCase` of
 * `stream-path.ts`) holds the case's plans, its "now" (the worker's and the store's clock), the
 * online store's config and namespace, and the topics.
 */
import { readFileSync } from 'node:fs';
import { createOnlineStore } from '../../online/create-online-store.ts';
import { StreamWorker } from '../../streaming/stream-worker.ts';
import { buildRepository } from './definitions.ts';
import type { ChildCase } from './stream-path.ts';

const c = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as ChildCase;
const repo = buildRepository(c.plans);
const store = createOnlineStore(c.store, {
  namespace: c.namespace,
  views: [...repo.featureViews.values()].map((v) => v.spec),
  clock: () => c.now,
});
await store.init();
const worker = new StreamWorker({
  repo,
  store,
  brokers: c.brokers,
  namespace: c.namespace,
  topics: c.env,
  clock: () => c.now,
  maxBatchRecords: 2,
  ...(c.schemaRegistryUrl ? { schemaRegistryUrl: c.schemaRegistryUrl } : {}),
  sessionTimeoutMs: c.sessionTimeoutMs,
});
await worker.start();
process.once('SIGTERM', () => {
  void worker
    .stop()
    .then(() => store.close())
    .then(() => process.exit(0));
});

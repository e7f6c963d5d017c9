/**
 * Bounded differential fuzzing of the service paths (fixed seed; `LARDER_FUZZ_SEED` overrides
 * it, which is how `npm run fuzz -- --services` runs it): for a few arbitrary cases, on the real
 * Redis and Kafka, against the reference evaluator at times ≥ the case's "now":
 *
 * - materialized into Redis (`materialize`), and pushed into Redis (`POST /push`'s handler);
 * - streamed: the records produced to fresh topics in arrival order and consumed by a stream
 *   worker process (clock pinned to "now") that is killed with SIGKILL twice — once after the
 *   first half, once while it applies the second — and restarted.
 *
 * Times are the case's offsets from a whole day chosen so "now" lies within a day after the
 * wall clock (Redis expires keys on the real clock).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { GeneratedRecord } from '../../examples/ecommerce/datagen/gen-data-options.ts';
import { produceToKafka } from '../../examples/ecommerce/datagen/index.ts';
import { createOnlineStore } from '../../online/create-online-store.ts';
import { DuckDBOfflineStore } from '../../offline/duckdb/duckdb-offline-store.ts';
import { DAY_MS } from '../../core/duration.ts';
import { maxRecordAgeMs } from '../../streaming/apply-records.ts';
import {
  BROKERS,
  createTestTopics,
  REDIS_URL,
  waitConsumed,
  type TestTopics,
} from '../streaming/stream-fixture.ts';
import { tempDir } from '../support/temp-repo.ts';
import { buildRepository } from './definitions.ts';
import {
  checkMaterialized,
  checkOnline,
  checkPushed,
  describeMismatches,
  guarded,
  onlineAcceptedCase,
  writeSources,
  type Mismatch,
  type StoreFactory,
} from './differential.ts';
import { atAnchor, caseArb, type FuzzCase } from './fuzz-case.ts';
import { knownDefectShapes } from './known-defects.ts';

const SEED = Number(process.env.LARDER_FUZZ_SEED ?? 1313);
const CASES = 3;

const children = new Set<ChildProcess>();
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of children) c.kill('SIGKILL');
  children.clear();
  for (const c of cleanups.splice(0).reverse()) await c();
});

const redis: StoreFactory = (options) =>
  createOnlineStore({ type: 'redis', url: REDIS_URL }, options);

function startWorker(file: string): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/fuzz/stream-child.ts', file], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr!.on('data', (d: Buffer) => process.stderr.write(`[fuzz worker] ${d.toString()}`));
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

const kill9 = async (child: ChildProcess): Promise<void> => {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
};

const produce = (topics: TestTopics, records: FuzzCase['records']): Promise<unknown> =>
  produceToKafka({
    brokers: BROKERS,
    topics: { user_events: topics.user_events, transactions: topics.transactions },
    rate: 0,
    records: records.map((r) => ({ topic: r.source, record: r.record }) as GeneratedRecord),
  });

/** Streams the case through killed and restarted worker processes, then reads the store. */
async function checkStreamed(c: FuzzCase): Promise<Mismatch[]> {
  const repo = buildRepository(c.plans);
  const topics = await createTestTopics(2);
  cleanups.push(topics.cleanup);
  const namespace = `fuzz-${randomUUID()}`;
  const store = redis({
    namespace,
    views: [...repo.featureViews.values()].map((v) => v.spec),
    clock: () => c.now,
  });
  await store.init();
  cleanups.push(async () => {
    await store.teardown();
    await store.close();
  });
  const tmp = tempDir();
  cleanups.push(tmp.cleanup);
  const file = join(tmp.dir, 'case.json');
  writeFileSync(
    file,
    JSON.stringify({
      plans: c.plans,
      now: c.now,
      namespace,
      redisUrl: REDIS_URL,
      brokers: BROKERS,
      env: topics.env,
    }),
  );
  const group = `${namespace}-stream`;
  const half = Math.ceil(c.records.length / 2);
  await produce(topics, c.records.slice(0, half));
  let worker = startWorker(file);
  await waitConsumed(store, group, topics.all);
  await kill9(worker);
  await produce(topics, c.records.slice(half));
  worker = startWorker(file);
  // Kill it again as soon as it has applied anything of the second half.
  const before = await checkpointSum(store, group, topics);
  for (let i = 0; i < 600 && (await checkpointSum(store, group, topics)) === before; i++)
    await new Promise((r) => setTimeout(r, 50));
  await kill9(worker);
  worker = startWorker(file);
  await waitConsumed(store, group, topics.all);
  await kill9(worker);
  // The worker dead-letters records later than now + the skew or with a join key over
  // ingest.maxKeyBytes.
  return checkOnline('streamed (Redis, worker killed twice)', store, repo, onlineAcceptedCase(c));
}

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

describe('differential fuzzing: materialized, pushed and streamed Redis = reference', () => {
  const shapes = knownDefectShapes();
  const cases = fc.sample(caseArb({ shapes, maxRecords: 40 }), { seed: SEED, numRuns: CASES });

  it.each(cases.map((c, i) => ({ c, name: String(i) })))(
    `case $name of seed ${SEED}`,
    async ({ c: raw }) => {
      // "now" within a day after the wall clock.
      const anchor = (Math.floor((Date.now() - raw.now) / DAY_MS) + 1) * DAY_MS;
      let c = atAnchor(raw, anchor);
      const repo = buildRepository(c.plans);
      if (!shapes.oldLifetimeRecords) {
        // Leave out what the worker skips as too old (KNOWN_DEFECTS.oldLifetimeRecords).
        const cutoff = (source: string): number => c.now - maxRecordAgeMs(repo, source);
        c = {
          ...c,
          records: c.records.filter((r) => (r.record.timestamp as number) >= cutoff(r.source)),
        };
      }
      const tmp = tempDir();
      cleanups.push(tmp.cleanup);
      writeSources(join(tmp.dir, 'data'), c);
      // The ingest rules judge "later than now" by the case's clock (its now lies up to a day
      // after the wall clock), as the worker and the push handler do.
      const offline = new DuckDBOfflineStore(
        {
          type: 'duckdb',
          dataDir: join(tmp.dir, 'data'),
          home: join(tmp.dir, 'home'),
          memoryLimit: '512MB',
          sweepThreads: 1,
        },
        { clock: () => c.now },
      );
      await offline.init();
      cleanups.push(() => offline.close());
      const mismatches = [
        ...(await guarded('materialized (Redis)', () =>
          checkMaterialized('materialized (Redis)', offline, redis, repo, c),
        )),
        ...(await guarded('pushed (Redis)', () => checkPushed('pushed (Redis)', redis, repo, c))),
        ...(await guarded('streamed (Redis)', () => checkStreamed(c))),
      ];
      expect(
        describeMismatches(mismatches),
        `replay: LARDER_FUZZ_SEED=${SEED} npx vitest run test/fuzz/fuzz-stream.kafka.test.ts`,
      ).toBe('');
    },
    120_000,
  );
});

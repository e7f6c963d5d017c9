/**
 * `larder stream --offline-sink` into BigQuery (the local emulator) with the real Kafka broker:
 * the worker kills itself (SIGKILL) between the offline append and the online checkpoint of a
 * batch mid-stream, a restart consumes the batch again, and every record id is in the tables
 * once; then an export over the streamed tables equals the export over the same records loaded
 * in batch. Skipped, with the reason in the test name, when the emulator is not installed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createOnlineStore } from '../../online/create-online-store.ts';
import { BigQueryOfflineStore } from '../../offline/bigquery/bigquery-offline-store.ts';
import {
  BQ_EMULATOR_BIN,
  bqEmulatorAvailable,
  startBqEmulator,
} from '../offline/bq-emulator-support.ts';
import { tempDir } from '../support/temp-repo.ts';
import {
  BROKERS,
  createTestTopics,
  history,
  killableSessionTimeoutMs,
  loadFeatures,
  produceHistory,
  REDIS_URL,
  waitConsumed,
  type TestTopics,
} from './stream-fixture.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const sessionTimeoutMs = await killableSessionTimeoutMs();
const children = new Set<ChildProcess>();
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of children) c.kill('SIGKILL');
  children.clear();
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** `larder stream --offline-sink` in `project` (its larder.config.ts names the BigQuery store). */
function startWorker(project: string, namespace: string, topics: TestTopics, crashAt = '') {
  const child = spawn(
    process.execPath,
    [
      join(ROOT, 'bin/larder.js'),
      'stream',
      '--offline-sink',
      // The emulator appends ~6 records a second: small batches of ~2 s (the worker heartbeats
      // while one runs). The restart waits out the killed worker's session: the shortest the
      // broker takes, 3 s (was 6 s).
      '--max-batch',
      '12',
      '--session-timeout-ms',
      String(sessionTimeoutMs),
    ],
    {
      cwd: project,
      env: {
        ...process.env,
        ...topics.env,
        LARDER_NAMESPACE: namespace,
        LARDER_ONLINE_STORE: REDIS_URL,
        KAFKA_BROKERS: BROKERS.join(','),
        LARDER_TEST_CRASH_AT: crashAt,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout!.resume();
  children.add(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.once('exit', (code, signal) => {
      children.delete(child);
      r({ code, signal });
    }),
  );
  return { child, exited, stderr: () => stderr };
}

if (!bqEmulatorAvailable) {
  it.skip(`stream into BigQuery — skipped: ${BQ_EMULATOR_BIN} not found (run: bash scripts/bqemu.sh install)`, () => {});
} else {
  describe('stream worker → BigQuery offline sink (emulator): kill -9 mid-batch', () => {
    it('each record id is in the tables once; the export equals the batch-loaded export', async () => {
      const repo = await loadFeatures();
      const emu = await startBqEmulator();
      cleanups.push(() => emu.stop());
      const tmp = tempDir();
      cleanups.push(tmp.cleanup);
      const project = join(tmp.dir, 'project');
      mkdirSync(project, { recursive: true });
      writeFileSync(
        join(project, 'larder.config.ts'),
        `export default ${JSON.stringify({
          repo: join(ROOT, 'examples/ecommerce/features'),
          home: join(tmp.dir, 'home'),
          dataDir: join(tmp.dir, 'data'),
          offlineStore: {
            type: 'bigquery',
            project: emu.project,
            dataset: emu.dataset,
            apiEndpoint: emu.endpoint,
          },
        })};\n`,
      );
      const topics = await createTestTopics(2);
      cleanups.push(topics.cleanup);
      const namespace = `test-${randomUUID()}`;
      const online = createOnlineStore(
        { type: 'redis', url: REDIS_URL },
        { namespace, views: [...repo.featureViews.values()].map((v) => v.spec) },
      );
      await online.init();
      cleanups.push(async () => {
        await online.teardown();
        await online.close();
      });
      // Enough for several batches per partition (~45 records each, batches of 12), so the kill
      // at the 2nd append is mid-stream; few, as the emulator's appends are slow.
      const h = history({ events: 80, seed: 19 });
      await produceHistory(topics, h);

      const crashed = startWorker(project, namespace, topics, 'after-sink-append:2');
      expect(await crashed.exited).toEqual({ code: null, signal: 'SIGKILL' });
      expect(crashed.stderr(), crashed.stderr().slice(0, 3000)).toContain(
        'LARDER_TEST_CRASH after-sink-append 2',
      );
      const restarted = startWorker(project, namespace, topics);
      await waitConsumed(online, `${namespace}-stream`, topics.all, 200_000).catch((e: Error) => {
        throw new Error(`${e.message}; worker stderr: ${restarted.stderr().slice(0, 2000)}`);
      });

      const ue = repo.batchSources.get('user_events_batch')!.spec;
      const tx = repo.batchSources.get('transactions_batch')!.spec;
      const ids = async (table: string, field: string): Promise<string[]> => {
        const [rows] = await emu.bq.query({
          query: `SELECT ${field} AS id FROM \`${emu.project}.${emu.dataset}.${table}\``,
        });
        return (rows as { id: string }[]).map((r) => r.id).sort();
      };
      // Each record once: the ids are exactly the produced ones, none repeated.
      expect(await ids(ue.bigqueryTable, 'eventId')).toEqual(
        h.events.map((e) => String(e.eventId)).sort(),
      );
      expect(await ids(tx.bigqueryTable, 'transactionId')).toEqual(
        h.transactions.map((t) => String(t.transactionId)).sort(),
      );

      // The same records loaded in batch, into another dataset of the same emulator.
      const batch = await emu.anotherDataset();
      await batch.writeTable(ue.bigqueryTable, ue.schema, h.events);
      await batch.writeTable(tx.bigqueryTable, tx.schema, h.transactions);
      const features = repo.resolveFeatures({
        features: [
          'user_recency:last_activity_days_ago',
          'product_rates:view_to_cart_rate_24h',
          'product_rates:cart_to_purchase_rate_24h',
          'user_product:price_vs_avg_order',
          'user_purchases:preferred_category_30d',
        ],
      });
      const entities = {
        type: 'rows' as const,
        rows: h.users.flatMap((u, i) => [
          { user_id: u, product_id: h.products[i % h.products.length], event_timestamp: h.t },
        ]),
      };
      const exportFrom = async (e: typeof emu) => {
        const store = new BigQueryOfflineStore({
          type: 'bigquery',
          project: e.project,
          dataset: e.dataset,
          apiEndpoint: e.endpoint,
          home: join(tmp.dir, `home-${e.dataset}`),
          entityUpload: 'insert',
        });
        await store.init();
        try {
          return await store.exportPointInTime({
            repo,
            features,
            entities,
            out: { type: 'memory' },
          });
        } finally {
          await store.close();
        }
      };
      const streamed = await exportFrom(emu);
      const loaded = await exportFrom(batch);
      expect(streamed.rows).toBe(h.users.length);
      expect(streamed.data!.some((r) => r.preferred_category_30d !== null)).toBe(true);
      expect(streamed.data).toEqual(loaded.data);
    }, 400_000);
  });
}

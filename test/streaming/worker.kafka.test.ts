import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBOfflineStore } from '../../offline/duckdb/duckdb-offline-store.ts';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { OnlineStore } from '../../online/online-store.ts';
import {
  createTestTopics,
  expectReferenceValues,
  history,
  loadFeatures,
  openTestStore,
  produceHistory,
  startTestWorker,
  waitConsumed,
} from './stream-fixture.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function openStore(repo: Awaited<ReturnType<typeof loadFeatures>>): Promise<OnlineStore> {
  const { store, close } = await openTestStore(repo);
  cleanups.push(close);
  return store;
}

describe('stream worker (Kafka → Redis)', () => {
  it('applies a generated history: online reads equal the reference evaluator', async () => {
    const repo = await loadFeatures();
    const topics = await createTestTopics(3);
    cleanups.push(topics.cleanup);
    const h = history({ events: 4000, seed: 3 });
    await produceHistory(topics, h);
    const store = await openStore(repo);
    // Partitions are consumed three at a time (the default), but the worker's store writes
    // never overlap: its batches (30 products shared by every partition) never conflict.
    let writing = 0;
    let mostAtOnce = 0;
    let writes = 0;
    const watched = new Proxy(store, {
      get(target, name) {
        if (name === 'applyStreamBatch')
          return async (b: Parameters<OnlineStore['applyStreamBatch']>[0]) => {
            writes++;
            mostAtOnce = Math.max(mostAtOnce, ++writing);
            try {
              return await target.applyStreamBatch(b);
            } finally {
              writing--;
            }
          };
        const v: unknown = Reflect.get(target, name, target);
        return typeof v === 'function' ? (v as () => unknown).bind(target) : v;
      },
    });
    const worker = await startTestWorker(watched, topics, cleanups, {
      repo,
      maxBatchRecords: 700,
    });
    await waitConsumed(store, worker.group, topics.all);
    expect(writes).toBeGreaterThan(6);
    expect(mostAtOnce).toBe(1);
    // The worker counts a batch once its write (with the checkpoint) has returned.
    await vi.waitFor(() => expect(worker.stats.records).toBe(h.records.length), {
      timeout: 10_000,
    });
    expect(worker.stats.overlaps).toBe(0);
    expect(worker.stats.deadLettered).toBe(0);
    const compared = await expectReferenceValues(repo, store, h);
    expect(compared).toBeGreaterThan(500);
    const metrics = await worker.metrics.registry.metrics();
    expect(metrics).toContain(
      `larder_stream_records_total{topic="${topics.user_events}"} ${h.events.length}`,
    );
    expect(metrics).toContain('larder_stream_freshness_seconds_bucket');
    // Data quality: per-field nulls among the valid records (anonymous events have no userId).
    const ue = topics.user_events;
    expect(metrics).toContain(
      `larder_stream_valid_records_total{topic="${ue}"} ${h.events.length}`,
    );
    const events = h.events as { userId: string | null; context: { referrer?: string | null } }[];
    const anonymous = events.filter((e) => e.userId === null).length;
    expect(anonymous).toBeGreaterThan(0);
    expect(metrics).toContain(
      `larder_stream_field_nulls_total{topic="${ue}",field="userId"} ${anonymous}`,
    );
    const noReferrer = events.filter((e) => e.context.referrer == null).length;
    if (noReferrer > 0)
      expect(metrics).toContain(
        `larder_stream_field_nulls_total{topic="${ue}",field="context.referrer"} ${noReferrer}`,
      );
  });

  it('--offline-sink: batch recomputation sees exactly what streaming saw', async () => {
    const repo = await loadFeatures();
    const topics = await createTestTopics(2);
    cleanups.push(topics.cleanup);
    const h = history({ events: 2000, seed: 8 });
    await produceHistory(topics, h);
    const store = await openStore(repo);
    const dataDir = mkdtempSync(join(tmpdir(), 'larder-sink-'));
    cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    const worker = await startTestWorker(store, topics, cleanups, {
      repo,
      maxBatchRecords: 300,
      offlineSink: new DuckDBOfflineStore({ type: 'duckdb', dataDir, home: dataDir }),
    });
    await waitConsumed(store, worker.group, topics.all);
    await worker.stop();
    // Every consumed record is in the raw files once: ids match the produced history.
    const ids = (dir: string, field: string): string[] =>
      readdirSync(join(dataDir, dir))
        .filter((f) => f.endsWith('.jsonl'))
        .flatMap((f) =>
          readFileSync(join(dataDir, dir, f), 'utf8')
            .split('\n')
            .filter(Boolean),
        )
        .map((l) => (JSON.parse(l) as Record<string, string>)[field]!)
        .sort();
    expect(ids('raw/user_events', 'eventId')).toEqual(
      h.events.map((e) => e.eventId as string).sort(),
    );
    expect(ids('raw/transactions', 'transactionId')).toEqual(
      h.records
        .filter((r) => r.topic === 'transactions')
        .map((r) => (r.record as { transactionId: string }).transactionId)
        .sort(),
    );
    // …and the offline store reads them: an export over the sink equals the online reads.
    const offline = new DuckDBOfflineStore({ type: 'duckdb', dataDir, home: dataDir });
    await offline.init();
    try {
      const t = Math.max(...h.events.map((e) => e.timestamp as number)) + 1;
      const users = [
        ...new Set(h.events.map((e) => e.userId).filter((u): u is string => typeof u === 'string')),
      ].slice(0, 20);
      const out = await offline.exportPointInTime({
        repo,
        features: repo.resolveFeatures({
          features: ['user_activity:events_24h', 'user_activity:last_platform'],
        }),
        entities: { type: 'rows', rows: users.map((u) => ({ user_id: u, event_timestamp: t })) },
        out: { type: 'memory' },
      });
      const view = repo.featureViews.get('user_activity')!.spec;
      const [online] = await store.readMany([
        { view, features: ['events_24h', 'last_platform'], entityKeys: users, t },
      ]);
      users.forEach((_, i) => {
        expect(out.data![i]!.events_24h).toBe(online!.rows[i]![0]!.value);
        expect(out.data![i]!.last_platform).toBe(online!.rows[i]![1]!.value);
      });
    } finally {
      await offline.close();
    }
  });

  it('applies late and out-of-order events by event time, and counts and skips events older than the longest window', async () => {
    const repo = await loadFeatures();
    const topics = await createTestTopics(2);
    cleanups.push(topics.cleanup);
    const h = history({ events: 2500, seed: 12 });
    // Shuffle the history (deterministically): events arrive out of order, some hours late.
    const shuffled = [...h.records];
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = (i * 7919 + 13) % (i + 1);
      [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
    }
    // Five events 40 days old: older than user_events' longest window (7d).
    const old = h.events
      .slice(0, 5)
      .map((e, k) => ({ ...e, eventId: `old-${k}`, timestamp: Date.now() - 40 * 86_400_000 }));
    const records = [
      ...shuffled,
      ...old.map((record) => ({ topic: 'user_events' as const, record: record as never })),
    ];
    await produceHistory(topics, { ...h, records });
    const store = await openStore(repo);
    const worker = await startTestWorker(store, topics, cleanups, {
      repo,
      maxBatchRecords: 400,
    });
    await waitConsumed(store, worker.group, topics.all);
    // The worker counts a batch once its write (with the checkpoint) has returned:
    // a moment after the checkpoint is visible in the store.
    await vi.waitFor(
      () => {
        expect(worker.stats.skippedTooOld).toBe(5);
        expect(worker.stats.records).toBe(records.length);
      },
      { timeout: 10_000 },
    );
    // The old events are outside every window and past every TTL: values equal the in-order history's.
    expect(await expectReferenceValues(repo, store, h)).toBeGreaterThan(300);
  });
});

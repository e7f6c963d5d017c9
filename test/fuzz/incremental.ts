/**
 * The `materialize-incremental` path of the differential fuzzer: a first run up to a time
 * before "now" over the first half of the records (in arrival order, the source's files), then
 * the second half arrives through the offline store's append path (as pushes and the stream
 * worker append them: late records included), then an incremental run up to "now" from where
 * `incrementalStarts` says (the first run's watermark, or the earliest event time appended
 * since it started). Online reads at times ≥ now must equal the reference over every record.
 */
import { randomUUID } from 'node:crypto';
import { transactions, userEvents } from '../../examples/ecommerce/features/sources.ts';
import { materialize } from '../../materialize/materialize.ts';
import { incrementalStarts } from '../../materialize/incremental-start.ts';
import type { DuckDBOfflineStore } from '../../offline/duckdb/duckdb-offline-store.ts';
import type { Repository } from '../../definitions/repository.ts';
import { DAY_MS, HOUR_MS } from '../../core/duration.ts';
import {
  checkOnline,
  onlineRefusals,
  writeSources,
  type Mismatch,
  type StoreFactory,
} from './differential.ts';
import type { FuzzCase } from './fuzz-case.ts';

/**
 * The first run's end: the case's median record time before now, so about half the records lie
 * after it and late records of the second half fall before it (now − 1h without records).
 */
export function firstRunEnd(c: FuzzCase): number {
  const times = c.records
    .map((r) => r.record.timestamp as number)
    .filter((t) => t < c.now)
    .sort((a, b) => a - b);
  return times.length > 0 ? times[Math.floor(times.length / 2)]! : c.now - HOUR_MS;
}

/**
 * Materializes the case in two runs (first half, then the appended second half, incrementally)
 * into a fresh store and compares online reads. Writes the case's sources under `dataDir`.
 */
export async function checkIncremental(
  path: string,
  dataDir: string,
  offline: DuckDBOfflineStore,
  factory: StoreFactory,
  repo: Repository,
  c: FuzzCase,
): Promise<Mismatch[]> {
  const half = Math.ceil(c.records.length / 2);
  // Appended records are the ones push and the stream worker accept (they append those only).
  const later = c.records.slice(half).filter((r) => onlineRefusals(c, r).length === 0);
  const first = { ...c, records: c.records.slice(0, half) };
  writeSources(dataDir, first);
  const online = factory({
    namespace: `fuzz-${randomUUID()}`,
    views: [...repo.featureViews.values()].map((v) => v.spec),
    clock: () => c.now,
  });
  await online.init();
  try {
    const firstEnd = firstRunEnd(c);
    const views = [...repo.featureViews.keys()];
    // Ingestion times: the first run starts at runAt, the second half arrives after it (a day
    // apart from the case's now, so the append files are the case's own).
    const runAt = c.now + DAY_MS;
    await materialize({ repo, offline, online, end: firstEnd });
    for (const source of ['user_events', 'transactions'] as const) {
      const records = later.filter((r) => r.source === source).map((r) => r.record);
      if (records.length === 0) continue;
      await offline.appendRecords({
        source: (source === 'user_events' ? userEvents : transactions).batch.spec,
        origin: { kind: 'push', id: randomUUID() },
        records: records.map((record, offset) => ({ offset, record })),
        ingestedAt: runAt + 1,
      });
    }
    const starts = await incrementalStarts(
      repo,
      offline,
      views,
      Object.fromEntries(views.map((v) => [v, firstEnd])),
      Object.fromEntries(views.map((v) => [v, runAt])),
    );
    await materialize({ repo, offline, online, end: c.now, start: (v) => starts[v.name] });
    const upToNow = [...first.records, ...later].filter(
      (r) => (r.record.timestamp as number) <= c.now,
    );
    return await checkOnline(path, online, repo, { ...c, records: upToNow });
  } finally {
    await online.teardown();
    await online.close();
  }
}

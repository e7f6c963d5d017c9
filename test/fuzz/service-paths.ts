/**
 * Every service path of one fuzz case on one online store config (Redis or Redis Cluster):
 * materialized (`materialize`), materialized incrementally (`incremental.ts`), pushed
 * (`POST /push`'s handler) and streamed (`stream-path.ts`), each against the reference at times
 * ≥ the case's "now". The case is moved to a whole day chosen so "now" lies within a day after
 * the wall clock (Redis expires keys on the real clock).
 */
import { join } from 'node:path';
import type { OnlineStoreConfig } from '../../config/config.ts';
import { createOnlineStore } from '../../online/create-online-store.ts';
import { DuckDBOfflineStore } from '../../offline/duckdb/duckdb-offline-store.ts';
import { maxRecordAgeMs } from '../../streaming/apply-records.ts';
import { tempDir } from '../support/temp-repo.ts';
import { buildRepository } from './definitions.ts';
import {
  checkMaterialized,
  checkPushed,
  guarded,
  writeSources,
  type Mismatch,
  type StoreFactory,
} from './differential.ts';
import { nearWallClock, type FuzzCase } from './fuzz-case.ts';
import { checkIncremental } from './incremental.ts';
import type { KnownDefect } from './known-defects.ts';
import type { StreamPath } from './stream-path.ts';

export async function checkServicePaths(
  raw: FuzzCase,
  name: string,
  stream: StreamPath,
  shapes: Record<KnownDefect, boolean>,
): Promise<Mismatch[]> {
  const config: OnlineStoreConfig = stream.store;
  const factory: StoreFactory = (options) => createOnlineStore(config, options);
  let c = nearWallClock(raw);
  const repo = buildRepository(c.plans, c.onDemand);
  if (!shapes.oldLifetimeRecords) {
    // Leave out what the worker skips as too old (KNOWN_DEFECTS.oldLifetimeRecords).
    const cutoff = (source: string): number => c.now - maxRecordAgeMs(repo, source);
    c = {
      ...c,
      records: c.records.filter((r) => (r.record.timestamp as number) >= cutoff(r.source)),
    };
  }
  const tmp = tempDir();
  stream.defer(tmp.cleanup);
  const dataDir = join(tmp.dir, 'data');
  writeSources(dataDir, c);
  // The ingest rules judge "later than now" by the case's clock (its now lies up to a day
  // after the wall clock), as the worker and the push handler do.
  const offline = new DuckDBOfflineStore(
    {
      type: 'duckdb',
      dataDir,
      home: join(tmp.dir, 'home'),
      memoryLimit: '512MB',
      sweepThreads: 1,
    },
    { clock: () => c.now },
  );
  await offline.init();
  stream.defer(() => offline.close());
  const path = (p: string): string => `${p} (${name})`;
  return [
    ...(await guarded(path('materialized'), () =>
      checkMaterialized(path('materialized'), offline, factory, repo, c),
    )),
    ...(await guarded(path('pushed'), () => checkPushed(path('pushed'), factory, repo, c))),
    ...(await guarded(path('streamed, worker killed twice'), () =>
      stream.check(path('streamed, worker killed twice'), c),
    )),
    // Last: it rewrites the case's sources (the first half, then appends).
    ...(await guarded(path('materialized incrementally'), () =>
      checkIncremental(path('materialized incrementally'), dataDir, offline, factory, repo, c),
    )),
  ];
}

/** The append conformance suite against the DuckDB store (JSON Lines files beside the source's). */
import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRepository } from '../../definitions/load.ts';
import { DuckDBOfflineStore } from '../../offline/duckdb/duckdb-offline-store.ts';
import { tempDir, tempRepo } from '../support/temp-repo.ts';
import { CONFORMANCE_REPO } from './conformance-repo.ts';
import { duckdbHarness } from './duckdb-harness.ts';
import { describeOfflineAppendConformance } from './offline-append-conformance.ts';

describeOfflineAppendConformance('duckdb', async () => {
  const h = duckdbHarness();
  return {
    ...h,
    async readRows(source) {
      const dir = join(h.dataDir, source.path);
      return readdirSync(dir)
        .filter((f) => f.endsWith('.jsonl'))
        .flatMap((f) =>
          readFileSync(join(dir, f), 'utf8')
            .split('\n')
            .filter((l) => l)
            .map((l) => JSON.parse(l) as Record<string, unknown>),
        );
    },
  };
});

describe('DuckDB append: killed between the data and its sidecar line', () => {
  it('the replay cuts the unrecorded lines and appends them once', async () => {
    const tmp = tempDir();
    try {
      const repoDir = tempRepo({ 'repo.ts': CONFORMANCE_REPO });
      const repo = await loadRepository(repoDir.dir);
      repoDir.cleanup();
      const src = repo.batchSources.get('ev')!.spec;
      const dataDir = join(tmp.dir, 'data');
      const store = new DuckDBOfflineStore({ type: 'duckdb', dataDir, home: tmp.dir });
      const origin = { kind: 'stream', topic: 'ev', partition: 0 } as const;
      const rec = (i: number) => ({
        offset: i,
        record: { id: `r${i}`, userId: 'u1', kind: 'view', amount: i, attrs: {}, ts: i },
      });
      const first = await store.appendRecords({ source: src, origin, records: [0, 1, 2].map(rec) });
      // The kill: offsets 3 and 4 written (one of them torn), no sidecar line for them.
      appendFileSync(first.location, `${JSON.stringify(rec(3).record)}\n{"id":"r4","us`);
      const replay = await store.appendRecords({
        source: src,
        origin,
        records: [3, 4, 5].map(rec),
      });
      expect(replay).toMatchObject({ appended: 3, skipped: 0, location: first.location });
      const ids = readFileSync(first.location, 'utf8')
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { id: string }).id);
      expect(ids).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 'r5']);
      await store.close();
    } finally {
      tmp.cleanup();
    }
  });
});

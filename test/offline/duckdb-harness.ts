/**
 * A conformance harness on the embedded DuckDB store: a temporary data dir and home, JSON Lines
 * written as the source's raw files. Shared by the offline-store, append, source-statistics and
 * drift-window conformance runs on DuckDB.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBOfflineStore } from '../../offline/duckdb/duckdb-offline-store.ts';
import { tempDir } from '../support/temp-repo.ts';
import type { ConformanceHarness } from './conformance-harness.ts';

type StoreOptions = Omit<
  ConstructorParameters<typeof DuckDBOfflineStore>[0],
  'type' | 'dataDir' | 'home'
>;

export function duckdbHarness(
  options: StoreOptions = {},
): ConformanceHarness & { store: DuckDBOfflineStore; dataDir: string } {
  const tmp = tempDir();
  const dataDir = join(tmp.dir, 'data');
  const store = new DuckDBOfflineStore({
    type: 'duckdb',
    dataDir,
    home: join(tmp.dir, 'home'),
    ...options,
  });
  return {
    store,
    dataDir,
    rawFiles: true,
    async writeSource(source, lines, file = 'part-00000.jsonl') {
      const dir = join(dataDir, source.path);
      mkdirSync(dir, { recursive: true });
      for (const f of readdirSync(dir)) rmSync(join(dir, f), { recursive: true, force: true });
      writeFileSync(join(dir, file), lines.map((l) => `${l}\n`).join(''));
    },
    async close() {
      await store.close();
      tmp.cleanup();
    },
  };
}

/**
 * Runs the offline-store conformance suite against the embedded DuckDB store, with its default
 * sweep engine and with the SQL window engine.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBOfflineStore } from '../../offline/duckdb/duckdb-offline-store.ts';
import { tempDir } from '../support/temp-repo.ts';
import { describeOfflineStoreConformance } from './offline-store-conformance.ts';

for (const engine of ['sweep', 'sql'] as const) {
  describeOfflineStoreConformance(
    engine === 'sweep' ? 'duckdb' : 'duckdb (sql engine)',
    async () => {
      const tmp = tempDir();
      const dataDir = join(tmp.dir, 'data');
      const store = new DuckDBOfflineStore({
        type: 'duckdb',
        dataDir,
        home: join(tmp.dir, 'home'),
        memoryLimit: '1GB',
        threads: 2,
        engine,
      });
      return {
        store,
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
    },
  );
}

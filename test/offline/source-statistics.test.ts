/** `sourceStatistics` conformance on the embedded DuckDB store (its sources as exports read them). */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBOfflineStore } from '../../offline/duckdb/duckdb-offline-store.ts';
import { tempDir } from '../support/temp-repo.ts';
import { describeSourceStatisticsConformance } from './source-statistics-conformance.ts';

describeSourceStatisticsConformance('duckdb', async () => {
  const tmp = tempDir();
  const dataDir = join(tmp.dir, 'data');
  const store = new DuckDBOfflineStore({
    type: 'duckdb',
    dataDir,
    home: join(tmp.dir, 'home'),
    memoryLimit: '1GB',
    threads: 1,
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
});

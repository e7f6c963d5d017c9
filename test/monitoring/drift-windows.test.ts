/** Drift over windows of offline values on the embedded DuckDB store (its raw JSON Lines files). */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBOfflineStore } from '../../offline/duckdb/duckdb-offline-store.ts';
import { tempDir } from '../support/temp-repo.ts';
import { describeDriftWindowsConformance } from './drift-windows-conformance.ts';

describeDriftWindowsConformance('duckdb', async () => {
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

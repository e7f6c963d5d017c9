/** The append conformance suite against the DuckDB store (JSON Lines files beside the source's). */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBOfflineStore } from '../../offline/duckdb/duckdb-offline-store.ts';
import { tempDir } from '../support/temp-repo.ts';
import { describeOfflineAppendConformance } from './offline-append-conformance.ts';

describeOfflineAppendConformance('duckdb', async () => {
  const tmp = tempDir();
  const dataDir = join(tmp.dir, 'data');
  const store = new DuckDBOfflineStore({ type: 'duckdb', dataDir, home: join(tmp.dir, 'home') });
  return {
    store,
    rawFiles: true,
    async writeSource(source, lines, file = 'part-00000.jsonl') {
      const dir = join(dataDir, source.path);
      mkdirSync(dir, { recursive: true });
      for (const f of readdirSync(dir)) rmSync(join(dir, f), { recursive: true, force: true });
      writeFileSync(join(dir, file), lines.map((l) => `${l}\n`).join(''));
    },
    async readRows(source) {
      const dir = join(dataDir, source.path);
      return readdirSync(dir)
        .filter((f) => f.endsWith('.jsonl'))
        .flatMap((f) =>
          readFileSync(join(dir, f), 'utf8')
            .split('\n')
            .filter((l) => l)
            .map((l) => JSON.parse(l) as Record<string, unknown>),
        );
    },
    async close() {
      await store.close();
      tmp.cleanup();
    },
  };
});

/**
 * Progress of a first run's validation (`cachedJsonl`'s `onProgress`): rows estimated from the
 * files' sizes while DuckDB works, counted as each file is done; reported only for files not
 * validated before, ending with `done`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { cachedJsonl } from '../../offline/duckdb/jsonl-cache.ts';
import { LocalDatabase } from '../../offline/local/local-database.ts';
import { describeZod, type RecordType } from '../../definitions/record-schema.ts';
import type { ValidationProgress } from '../../offline/offline-store.ts';
import { tempDir, tempRepo } from '../support/temp-repo.ts';
import { DuckDBOfflineStore } from '../../offline/duckdb/duckdb-offline-store.ts';
import { loadRepository } from '../../definitions/load.ts';
import type { ExportProgress } from '../../offline/offline-store.ts';
import { CONFORMANCE_REPO } from './conformance-repo.ts';

const SCHEMA = describeZod(
  z.object({ id: z.string(), ts: z.number().int(), kind: z.enum(['a', 'b']) }),
) as RecordType;

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('validating new JSON Lines files: progress', () => {
  it('counts every non-blank line of the new files, ends with done, and is silent when cached', async () => {
    const db = new LocalDatabase({ home: join(tmp.dir, 'home'), memoryLimit: '1GB', threads: 1 });
    const client = await db.connect();
    try {
      const files = [0, 1, 2].map((f) => join(tmp.dir, `part-${f}.jsonl`));
      const sizes = [3000, 0, 1500];
      files.forEach((path, f) => {
        const lines = Array.from({ length: sizes[f]! }, (_, i) =>
          // Good and bad records, and blank lines (not rows).
          i % 100 === 99
            ? ''
            : JSON.stringify({ id: `e${f}-${i}`, ts: i, kind: i % 7 ? 'a' : 'x' }),
        );
        writeFileSync(path, lines.join('\n') + (lines.length ? '\n' : ''));
      });
      const rows = sizes.reduce((n, s) => n + s - Math.floor(s / 100), 0);
      const seen: ValidationProgress[] = [];
      const cacheDir = join(tmp.dir, 'cache');
      await cachedJsonl(client, cacheDir, SCHEMA, files, (p) => seen.push(p));
      expect(seen.length).toBeGreaterThanOrEqual(3);
      const last = seen.at(-1)!;
      expect(last).toMatchObject({
        rowsDone: rows,
        rowsTotal: rows,
        filesDone: 3,
        filesTotal: 3,
        done: true,
      });
      expect(seen.slice(0, -1).every((p) => !p.done)).toBe(true);
      for (let i = 1; i < seen.length; i++) {
        expect(seen[i]!.rowsDone).toBeGreaterThanOrEqual(seen[i - 1]!.rowsDone);
        expect(seen[i]!.filesDone).toBeGreaterThanOrEqual(seen[i - 1]!.filesDone);
        expect(seen[i]!.rowsDone).toBeLessThanOrEqual(seen[i]!.rowsTotal);
      }

      // Cached: nothing to validate, nothing reported; one new file: only it.
      const again: ValidationProgress[] = [];
      await cachedJsonl(client, cacheDir, SCHEMA, files, (p) => again.push(p));
      expect(again).toEqual([]);
      const extra = join(tmp.dir, 'part-3.jsonl');
      writeFileSync(extra, JSON.stringify({ id: 'n', ts: 1, kind: 'b' }) + '\n');
      await cachedJsonl(client, cacheDir, SCHEMA, [...files, extra], (p) => again.push(p));
      expect(again.at(-1)).toMatchObject({
        rowsDone: 1,
        rowsTotal: 1,
        filesDone: 1,
        filesTotal: 1,
        done: true,
      });
    } finally {
      db.close();
    }
  });

  it('an export over new raw files shows "validating <source>" until every row is counted; a cached one does not', async () => {
    const repoDir = tempRepo({ 'repo.ts': CONFORMANCE_REPO });
    const store = new DuckDBOfflineStore({
      type: 'duckdb',
      dataDir: join(tmp.dir, 'data'),
      home: join(tmp.dir, 'store-home'),
      memoryLimit: '1GB',
      threads: 1,
    });
    try {
      const repo = await loadRepository(repoDir.dir);
      const dir = join(tmp.dir, 'data', 'raw', 'ev');
      mkdirSync(dir, { recursive: true });
      const T0 = Date.UTC(2024, 0, 1);
      writeFileSync(
        join(dir, 'a.jsonl'),
        Array.from({ length: 500 }, (_, i) =>
          JSON.stringify({
            id: `e${i}`,
            userId: `u${i % 5}`,
            kind: 'click',
            amount: i,
            attrs: {},
            ts: T0 + i,
          }),
        ).join('\n'),
      );
      await store.init();
      const exportOnce = async (): Promise<ExportProgress[]> => {
        const seen: ExportProgress[] = [];
        await store.exportPointInTime({
          repo,
          features: repo.resolveFeatures({ features: ['stats:n_1h'] }),
          entities: { type: 'rows', rows: [{ user_id: 'u1', event_timestamp: T0 + 1000 }] },
          out: { type: 'memory' },
          onProgress: (p) => seen.push(p),
        });
        return seen;
      };
      const first = (await exportOnce()).filter((p) => p.phase === 'validating ev');
      expect(first.at(-1)).toMatchObject({ rowsDone: 500, rowsTotal: 500 });
      const again = await exportOnce();
      expect(again.some((p) => p.phase.startsWith('validating'))).toBe(false);
    } finally {
      await store.close();
      repoDir.cleanup();
    }
  });
});

/**
 * The JSON Lines cache over several sources at once (`cachedJsonlSources`, a first export's
 * validation: one pool over every source's new files): each source's entries are the ones it
 * would get alone (same paths, same rows), a file two sources read with one schema is validated
 * once, the progress counts every new file together, and no plan file is left behind.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { cachedJsonl, cachedJsonlSources } from '../../offline/duckdb/jsonl-cache.ts';
import { LocalDatabase } from '../../offline/local/local-database.ts';
import { sqlString } from '../../offline/local/duckdb-client.ts';
import { describeZod, type RecordType } from '../../definitions/record-schema.ts';
import type { ValidationProgress } from '../../offline/offline-store.ts';
import { tempDir } from '../support/temp-repo.ts';

const EVENTS = describeZod(
  z.object({ id: z.string(), ts: z.number().int(), kind: z.enum(['a', 'b']) }),
) as RecordType;
const ORDERS = describeZod(
  z.object({ orderId: z.string(), ts: z.number().int(), amount: z.number() }),
) as RecordType;

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('validating the new files of several sources in one pool', () => {
  it('gives each source the entries it would get alone, validates a shared file once and reports them together', async () => {
    const db = new LocalDatabase({ home: join(tmp.dir, 'home'), memoryLimit: '1GB', threads: 2 });
    const client = await db.connect();
    try {
      const write = (name: string, lines: string[]): string => {
        const path = join(tmp.dir, name);
        writeFileSync(path, lines.join('\n') + '\n');
        return path;
      };
      // Sizes that leave one file of a source alone at the end of its own pool.
      const events = [0, 1, 2].map((f) =>
        write(
          `ev-${f}.jsonl`,
          Array.from({ length: [900, 700, 300][f]! }, (_, i) =>
            // Good and bad records (an unknown enum value).
            JSON.stringify({ id: `e${f}-${i}`, ts: i, kind: i % 9 ? 'a' : 'x' }),
          ),
        ),
      );
      const orders = [
        write(
          'orders.jsonl',
          Array.from({ length: 400 }, (_, i) =>
            i % 50 === 7
              ? '{"orderId": 1}'
              : JSON.stringify({ orderId: `o${i}`, ts: i, amount: i / 4 }),
          ),
        ),
      ];
      const seen: ValidationProgress[] = [];
      const together = join(tmp.dir, 'together');
      const entries = await cachedJsonlSources(
        client,
        together,
        [
          { schema: EVENTS, files: events },
          { schema: ORDERS, files: orders },
          // A second source over two of the same files with the same schema.
          { schema: EVENTS, files: events.slice(1) },
        ],
        (p) => seen.push(p),
      );
      const alone = join(tmp.dir, 'alone');
      const expected = [
        await cachedJsonl(client, alone, EVENTS, events),
        await cachedJsonl(client, alone, ORDERS, orders),
      ];
      expect(entries.map((e) => e.map((p) => p.slice(together.length)))).toEqual(
        [...expected, expected[0]!.slice(1)].map((e) => e.map((p) => p.slice(alone.length))),
      );
      // The same rows, both ways.
      for (const [g, files] of expected.entries())
        for (const [i, path] of files.entries()) {
          const a = sqlString(path);
          const b = sqlString(entries[g]![i]!);
          const [r] = await client.all(
            `SELECT (SELECT count(*) FROM (FROM read_parquet(${a}) EXCEPT ALL FROM read_parquet(${b}))) AS x, ` +
              `(SELECT count(*) FROM (FROM read_parquet(${b}) EXCEPT ALL FROM read_parquet(${a}))) AS y, ` +
              `(SELECT count(*) FROM read_parquet(${b})) AS n, ` +
              `(SELECT count(*) FROM read_parquet(${b}) WHERE __reason IS NOT NULL) AS bad`,
          );
          expect(r).toMatchObject({ x: 0, y: 0 });
          expect(Number(r!.n)).toBe([[900, 700, 300], [400]][g]![i]);
          expect(Number(r!.bad)).toBeGreaterThan(0);
        }
      // Four files validated (the shared ones once), all rows counted, then done.
      expect(seen.at(-1)).toMatchObject({
        rowsDone: 2300,
        rowsTotal: 2300,
        filesDone: 4,
        filesTotal: 4,
        done: true,
      });
      for (let i = 1; i < seen.length; i++)
        expect(seen[i]!.rowsDone).toBeGreaterThanOrEqual(seen[i - 1]!.rowsDone);
      expect(readdirSync(together).filter((f) => !f.endsWith('.parquet'))).toEqual([]);
      // Cached: nothing to validate, nothing reported.
      const again: ValidationProgress[] = [];
      await cachedJsonlSources(client, together, [{ schema: ORDERS, files: orders }], (p) =>
        again.push(p),
      );
      expect(again).toEqual([]);
    } finally {
      db.close();
    }
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { afterEach, describe, expect, it } from 'vitest';
import { writeArrow } from '../../offline/export/write-arrow.ts';
import { tempDir } from '../support/temp-repo.ts';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()!();
});

async function* chunksOf(chunks: unknown[][][]): AsyncGenerator<unknown[][]> {
  for (const c of chunks) yield c;
}

function readBack(path: string): { rows: Record<string, unknown>[]; nullable: boolean[] } {
  const table = tableFromIPC(readFileSync(path));
  return {
    rows: table.toArray().map((r: { toJSON(): Record<string, unknown> }) => r.toJSON()),
    nullable: table.schema.fields.map((f) => f.nullable),
  };
}

describe('writeArrow', () => {
  it('writes chunks whose columns first hold a null in a later chunk (one schema, all nullable)', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const path = join(tmp.dir, 'out.arrow');
    await writeArrow(
      path,
      ['id', 'n', 'x', 'b'],
      ['string', 'int64', 'float64', 'bool'],
      chunksOf([
        [
          ['a', 'b'],
          [1, 2],
          [0.5, 1.5],
          [true, false],
        ],
        [
          [null, 'd'],
          [3, null],
          [null, 2.5],
          [false, null],
        ],
      ]),
    );
    const { rows, nullable } = readBack(path);
    expect(nullable).toEqual([true, true, true, true]);
    expect(rows).toEqual([
      { id: 'a', n: 1n, x: 0.5, b: true },
      { id: 'b', n: 2n, x: 1.5, b: false },
      { id: null, n: 3n, x: null, b: false },
      { id: 'd', n: null, x: 2.5, b: null },
    ]);
  });

  it('writes the schema alone when there are no rows', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const path = join(tmp.dir, 'empty.arrow');
    await writeArrow(path, ['id', 'n'], ['string', 'int64'], chunksOf([]));
    const table = tableFromIPC(readFileSync(path));
    expect(table.numRows).toBe(0);
    expect(table.schema.fields.map((f) => `${f.name}:${String(f.type)}`)).toEqual([
      'id:Utf8',
      'n:Int64',
    ]);
  });

  it('rejects when the file cannot be written, leaving no error unhandled', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    async function* slow(): AsyncGenerator<unknown[][]> {
      yield [[1]];
      await new Promise((resolve) => setTimeout(resolve, 50));
      yield [[2]];
    }
    // The path is a folder: the file stream fails while the chunks are still being produced.
    await expect(writeArrow(tmp.dir, ['x'], ['float64'], slow())).rejects.toThrow(/EISDIR/);
  });
});

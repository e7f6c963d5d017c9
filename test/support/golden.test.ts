import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { expectGolden } from './golden.ts';
import { tempDir } from './temp-repo.ts';

let tmp: { dir: string; cleanup: () => void } | undefined;
afterEach(() => tmp?.cleanup());

describe('expectGolden', () => {
  it('fails when the golden file is missing, and does not create it', () => {
    tmp = tempDir();
    expect(() => expectGolden(tmp!.dir, 'missing.sql', 'SELECT 1', false)).toThrow(
      /missing\.sql.*UPDATE_GOLDEN=1/,
    );
    expect(existsSync(`${tmp.dir}/missing.sql`)).toBe(false);
  });

  it('fails when the text differs from the golden file, and leaves the file alone', () => {
    tmp = tempDir();
    writeFileSync(`${tmp.dir}/q.sql`, 'SELECT 1\n');
    expect(() => expectGolden(tmp!.dir, 'q.sql', 'SELECT 2', false)).toThrow();
    expect(readFileSync(`${tmp.dir}/q.sql`, 'utf8')).toBe('SELECT 1\n');
  });

  it('passes on equal text and writes the file only when asked to update', () => {
    tmp = tempDir();
    expectGolden(tmp.dir, 'q.sql', 'SELECT 3', true);
    expect(readFileSync(`${tmp.dir}/q.sql`, 'utf8')).toBe('SELECT 3\n');
    expect(() => expectGolden(tmp!.dir, 'q.sql', 'SELECT 3', false)).not.toThrow();
  });
});

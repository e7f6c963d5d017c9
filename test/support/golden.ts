/**
 * Golden files: `expectGolden(dir, name, text)` compares `text` with `<dir>/<name>`. A missing
 * or different file fails the test; only `UPDATE_GOLDEN=1` (re)writes the file, so a golden is
 * never blessed by the run that is supposed to check it.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';

export function expectGolden(
  dir: string,
  name: string,
  text: string,
  update = process.env.UPDATE_GOLDEN === '1',
): void {
  const path = join(dir, name);
  if (update) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path, `${text}\n`);
  } else if (!existsSync(path)) {
    throw new Error(
      `golden file ${path} is missing: write it with UPDATE_GOLDEN=1 npx vitest run <this test file> and review it`,
    );
  }
  expect(text).toBe(readFileSync(path, 'utf8').replace(/\n$/, ''));
}

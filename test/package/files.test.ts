/**
 * The published package holds every product folder: package.json's `files` lists each folder of
 * the layer table in `.dependency-cruiser.cjs` (a folder left out breaks the installed `larder`
 * at its first import), and nothing of the example, tests or benchmarks.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const pkg = JSON.parse(readFileSync(resolve('package.json'), 'utf8')) as { files: string[] };

describe("package.json's files", () => {
  it('lists every product folder of the layer table', () => {
    const source = readFileSync(resolve('.dependency-cruiser.cjs'), 'utf8');
    const table = /const LAYERS = \[([\s\S]*?)\n\];/.exec(source)?.[1] ?? '';
    const folders = [...table.matchAll(/'([a-z-]+)'/g)].map((m) => m[1]!);
    expect(folders.length).toBeGreaterThan(10);
    for (const f of folders) expect(pkg.files, f).toContain(`${f}/`);
  });

  it('leaves out the example, tests, benchmarks and scripts', () => {
    for (const f of ['examples/', 'test/', 'bench/', 'scripts/'])
      expect(pkg.files).not.toContain(f);
  });
});

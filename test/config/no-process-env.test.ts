/**
 * One place reads the environment: `config/`. Every other product folder receives its values
 * (the `LarderConfig`, or options built from it), so a setting can be found, validated and
 * documented in one schema. Tests, benchmarks, scripts and the example may read the
 * environment; product code may not, not even in a comment's example.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
/** Folders that are not product code, and `config/`, the one reader. */
const NOT_PRODUCT = new Set(['config', 'test', 'bench', 'scripts', 'examples', 'docs', 'bin']);

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return tsFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

const productFolders = readdirSync(ROOT, { withFileTypes: true })
  .filter((e) => e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules')
  .map((e) => e.name)
  .filter((name) => !NOT_PRODUCT.has(name));

describe('the environment is read in config/ only', () => {
  it('covers the product folders', () => {
    for (const f of ['core', 'definitions', 'offline', 'online', 'streaming', 'api', 'cli'])
      expect(productFolders).toContain(f);
  });

  it('no product source outside config/ mentions process.env', () => {
    const found = productFolders
      .flatMap((f) => tsFiles(join(ROOT, f)))
      .flatMap((file) =>
        readFileSync(file, 'utf8')
          .split('\n')
          .flatMap((line, i) =>
            /process\s*\.\s*env\b|process\s*\[\s*['"]env['"]\s*\]/.test(line)
              ? [`${relative(ROOT, file)}:${i + 1}: ${line.trim()}`]
              : [],
          ),
      );
    expect(found).toEqual([]);
  });
});

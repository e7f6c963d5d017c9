/**
 * `$LARDER_HOME/registry.json` that is not a registry: not JSON, or JSON of another shape (an
 * array, an object without `objects`). Both are LARDER_REGISTRY_NOT_APPLIED naming the file;
 * the second was a TypeError ("Cannot convert undefined or null to object") that the CLI
 * reported as a bug (exit 2) from `larder list` and `describe`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LarderError } from '../../core/errors.ts';
import { readRegistry } from '../../registry/registry-file.ts';
import { tempDir } from '../support/temp-repo.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

let n = 0;
/** A home whose registry.json holds `text`. */
function home(text: string): string {
  const dir = join(tmp.dir, `home-${n++}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'registry.json'), text);
  return dir;
}

describe('registry file', () => {
  it('no file: no registry', () => {
    expect(readRegistry(join(tmp.dir, 'none'))).toBeNull();
  });

  it.each([
    ['{bad', 'is not valid JSON'],
    ['[]', 'is not a Larder registry'],
    ['null', 'is not a Larder registry'],
    ['{"version": "x"}', 'is not a Larder registry'],
    ['{"format": 1, "version": 3, "repo": "/r", "objects": []}', 'is not a Larder registry'],
    [
      '{"format": 1, "version": 3, "repo": "/r", "objects": {"a": null}}',
      'is not a Larder registry',
    ],
  ])('%s: LARDER_REGISTRY_NOT_APPLIED naming the file', (text, words) => {
    const dir = home(text);
    let err: unknown;
    try {
      readRegistry(dir);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LarderError);
    expect((err as LarderError).code).toBe('LARDER_REGISTRY_NOT_APPLIED');
    expect((err as LarderError).message).toBe(
      `the registry file ${join(dir, 'registry.json')} ${words}`,
    );
  });

  it('a registry as apply writes it reads back', () => {
    const file = {
      format: 1,
      version: 2,
      appliedAt: '2026-12-07T00:00:00.000Z',
      repo: '/r',
      objects: {},
      watermarks: { v: 5 },
    };
    expect(readRegistry(home(JSON.stringify(file)))).toEqual(file);
  });
});

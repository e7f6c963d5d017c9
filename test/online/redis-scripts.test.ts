/**
 * The Redis store's Lua files (`online/redis/lua/`): every file is used, every script states
 * its contract in a header comment, and the shared helpers are prepended exactly where used.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as scripts from '../../online/redis/redis-scripts.ts';

const DIR = new URL('../../online/redis/lua/', import.meta.url);
const read = (name: string) => readFileSync(new URL(name, DIR), 'utf8');
const SCRIPTS = readdirSync(DIR).filter((f) => f.endsWith('.lua'));
const INCLUDES = readdirSync(new URL('includes/', DIR)).map((f) => `includes/${f}`);
const EXPORTS = Object.entries(scripts) as [string, string][];

/** The script's own text: the export without the includes prepended to it. */
function body(text: string): string {
  let rest = text;
  for (const inc of INCLUDES) if (rest.startsWith(read(inc))) rest = rest.slice(read(inc).length);
  for (const inc of INCLUDES) if (rest.startsWith(read(inc))) rest = rest.slice(read(inc).length);
  return rest;
}

describe('Redis Lua scripts', () => {
  it('each script file is exactly one export, and each export one file', () => {
    expect(SCRIPTS.sort()).toEqual([
      'cas-fields.lua',
      'idempotent-batch.lua',
      'idempotent-claim.lua',
      'load-fields.lua',
      'read-entities.lua',
      'read-merge-fields.lua',
      'set-fields.lua',
      'stream-batch.lua',
    ]);
    const bodies = EXPORTS.map(([, text]) => body(text)).sort();
    expect(bodies).toEqual(SCRIPTS.map(read).sort());
  });

  it('each script opens with its contract: KEYS, ARGV, Returns', () => {
    for (const f of SCRIPTS) {
      const lines = read(f).split('\n');
      const header = lines.slice(lines[0]!.startsWith('#!') ? 1 : 0);
      const comment = header.slice(
        0,
        header.findIndex((l) => !l.startsWith('--')),
      );
      expect(comment[0], f).toMatch(new RegExp(`^-- ${f.replace('.lua', '')}: `));
      const text = comment.join('\n');
      for (const word of ['KEYS[1', 'ARGV', 'Returns'])
        expect(text, `${f}: ${word}`).toContain(word);
      expect(text, f).toMatch(/Atomic|Read-only/);
    }
  });

  it('prepends the helpers to the scripts that call them, once each', () => {
    const prune = read('includes/prune-and-extend.lua');
    const merged = read('includes/merged-fields.lua');
    for (const [name, text] of EXPORTS) {
      const own = body(text);
      const usesMerged = /\bmerged_fields_unchanged\(|\bwrite_merged_fields\(/.test(own);
      const usesPrune = usesMerged || /\b(prune|extend)\(/.test(own);
      expect(text, name).toBe((usesPrune ? prune : '') + (usesMerged ? merged : '') + own);
    }
  });

  it('keeps the read scripts read-only: their shebang is the first line sent', () => {
    expect(scripts.READ_ENTITIES_LUA.startsWith('#!lua flags=no-writes\n')).toBe(true);
    expect(scripts.READ_MERGE_FIELDS_LUA.startsWith('#!lua flags=no-writes\n')).toBe(true);
  });
});

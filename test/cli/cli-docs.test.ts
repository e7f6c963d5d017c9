import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderCliDocs } from '../../scripts/gen-cli-docs.ts';

describe('docs/cli.md', () => {
  it('is up to date with the CLI (regenerate with `npm run docs:cli`)', async () => {
    const doc = await renderCliDocs();
    expect(readFileSync('docs/cli.md', 'utf8')).toBe(doc);
    for (const cmd of [
      'apply',
      'plan',
      'export',
      'materialize',
      'serve',
      'stream',
      'dlq inspect',
      'keys create',
      'teardown',
      'label',
      'gen-data',
    ]) {
      expect(doc).toContain(`## \`larder ${cmd}\``);
    }
  }, 60_000);
});

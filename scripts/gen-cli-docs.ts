/**
 * Writes docs/cli.md from the `larder` command's own help, so the reference cannot drift:
 * `npm run docs:cli` regenerates it, and test/cli/cli-docs.test.ts fails when it is stale.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');

function help(path: string[]): string {
  return execFileSync(process.execPath, [resolve(ROOT, 'bin/larder.js'), ...path, '--help'], {
    encoding: 'utf8',
    env: { ...process.env, COLUMNS: '100' },
  }).trimEnd();
}

/** Subcommand names listed in a help text's "Commands:" section (help itself excluded). */
function subcommands(text: string): string[] {
  const i = text.indexOf('\nCommands:\n');
  if (i < 0) return [];
  return text
    .slice(i + 11)
    .split('\n')
    .map((l) => /^ {2}([a-z][a-z-]*)/.exec(l)?.[1])
    .filter((n): n is string => n !== undefined && n !== 'help');
}

export function renderCliDocs(): string {
  const out = [
    '# CLI reference',
    '',
    'Generated from `larder --help` by `npm run docs:cli`; do not edit by hand.',
    '',
  ];
  const walk = (path: string[]): void => {
    const text = help(path);
    out.push(`## \`larder${path.length ? ` ${path.join(' ')}` : ''}\``, '', '```', text, '```', '');
    for (const sub of subcommands(text)) walk([...path, sub]);
  };
  walk([]);
  return out.join('\n');
}

if (process.argv[1] === import.meta.filename) {
  writeFileSync(resolve(ROOT, 'docs/cli.md'), renderCliDocs());
  console.log('wrote docs/cli.md');
}

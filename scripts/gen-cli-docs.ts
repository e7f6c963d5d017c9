/**
 * Writes docs/cli.md from the `larder` command's own help, so the reference cannot drift:
 * `npm run docs:cli` regenerates it, and test/cli/cli-docs.test.ts fails when it is stale.
 *
 * The help is rendered in this process from the command tree cli/main.ts runs (with the
 * project's plugins), exactly as `larder <command> --help` prints it into a pipe: 80 columns,
 * no colours. One process instead of one `larder` per command.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadCommandPlugins } from '../cli/plugin.ts';
import { buildProgram } from '../cli/program.ts';

const ROOT = resolve(import.meta.dirname, '..');

/** What `larder <path> --help` prints for `cmd` (its help, and the texts added after it). */
function help(cmd: Command): string {
  let out = '';
  cmd.configureOutput({
    writeOut: (s) => (out += s),
    writeErr: (s) => (out += s),
    getOutHelpWidth: () => 80,
    getOutHasColors: () => false,
  });
  cmd.outputHelp();
  return out.trimEnd();
}

/** docs/cli.md: every command that a help text lists, depth first, in the listed order. */
export async function renderCliDocs(): Promise<string> {
  const program = buildProgram(await loadCommandPlugins(ROOT));
  const out = [
    '# CLI reference',
    '',
    'Generated from `larder --help` by `npm run docs:cli`; do not edit by hand.',
    '',
  ];
  const walk = (cmd: Command, path: string[]): void => {
    out.push(
      `## \`larder${path.length ? ` ${path.join(' ')}` : ''}\``,
      '',
      '```',
      help(cmd),
      '```',
      '',
    );
    for (const sub of cmd.createHelp().visibleCommands(cmd))
      if (sub.name() !== 'help') walk(sub, [...path, sub.name()]);
  };
  walk(program, []);
  return out.join('\n');
}

if (process.argv[1] === import.meta.filename) {
  writeFileSync(resolve(ROOT, 'docs/cli.md'), await renderCliDocs());
  console.log('wrote docs/cli.md');
}

/**
 * The `larder` command tree. Built by a function so that tests can walk every command
 * (test/cli/cli-errors.test.ts) without running one.
 */
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { registerMaterializeCommands } from './commands/materialize-command.ts';
import { registerRegistryCommands } from './commands/registry-commands.ts';
import { registerTeardownCommand } from './commands/teardown-command.ts';
import { registerExportCommand } from './commands/export-command.ts';
import { registerServeCommand } from './commands/serve-command.ts';
import { registerKeysCommand } from './commands/keys-command.ts';
import { registerStreamCommands } from './commands/stream-command.ts';
import { registerTopicsCommand } from './commands/topics-command.ts';
import { registerCodegenCommand } from './commands/codegen-command.ts';
import { registerInitCommand } from './commands/init-command.ts';
import { registerRunsCommand } from './commands/runs-command.ts';
import { registerSchedulerCommand } from './commands/scheduler-command.ts';
import { registerValidateCommand } from './commands/validate-command.ts';
import { registerSkewCommand } from './commands/skew-command.ts';
import { registerDriftCommand } from './commands/drift-command.ts';
import { registerMonitorCommand } from './commands/monitor-command.ts';
import { LarderError } from '../core/errors.ts';
import type { GlobalOptions } from './context.ts';
import type { CommandPlugin } from './plugin.ts';

/** Larder's version: package.json's. */
export const LARDER_VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

/** The command tree, with the commands of the project's plugins (cli/plugin.ts) after Larder's. */
export function buildProgram(plugins: readonly CommandPlugin[] = []): Command {
  const program = new Command('larder')
    .description('Larder: a TypeScript feature store and ML serving platform')
    .version(LARDER_VERSION, '-V, --version', "print Larder's version")
    .option(
      '--repo <dir>',
      'feature repository folder (default: larder.config.ts repo, or ./features)',
    )
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .addHelpText(
      'after',
      `
Times (every --start and --end): ISO-8601 (2026-11-27T10:00:00Z; UTC unless it has an offset),
epoch milliseconds, or now / now-1d / now+2h (m, h, d). A plain number that would lie before 1973
or after 2500 as milliseconds is refused (it is epoch seconds or microseconds); export and label
take --timestamp-unit s|ms|us for plain numbers in another unit.

Errors: one line "error [CODE]: what and where" and a "hint:" line with the fix, exit code 1 (a
usage mistake: commander's one line, exit code 1). An unexpected failure is a bug: one line, exit
code 2, and LARDER_DEBUG=1 prints its stack trace.`,
    );

  const globals = (): GlobalOptions => program.opts<GlobalOptions>();
  registerInitCommand(program);
  registerRegistryCommands(program, globals);
  registerExportCommand(program, globals);
  registerMaterializeCommands(program, globals);
  registerValidateCommand(program, globals);
  registerTeardownCommand(program, globals);
  registerServeCommand(program, globals);
  registerKeysCommand(program, globals);
  registerStreamCommands(program, globals);
  registerTopicsCommand(program, globals);
  registerCodegenCommand(program, globals);
  registerSchedulerCommand(program, globals);
  registerRunsCommand(program, globals);
  registerSkewCommand(program, globals);
  registerDriftCommand(program, globals);
  registerMonitorCommand(program, globals);
  for (const plugin of plugins) plugin(program, globals);
  // A command group run without its subcommand (`larder keys`) is a one-line error, not help.
  for (const group of allCommands(program).filter((c) => c.commands.length > 0)) {
    group
      .helpCommand(true)
      .allowExcessArguments(true)
      .action((_opts: unknown, self: Command) => {
        const name = `larder ${commandPath(group).join(' ')}`;
        const subs = group.commands.map((c) => c.name()).join(', ');
        const given = self.args[0];
        throw new LarderError(
          'LARDER_BAD_REQUEST',
          given === undefined
            ? `${name} needs a command: ${subs}`
            : `${name} has no command "${given}"; it has ${subs}`,
          {
            hint: `see ${name} --help`,
            detail: { reason: given === undefined ? 'missing_argument' : 'unknown_command' },
          },
        );
      });
  }
  return program;
}

/** Every command below `program` (not `program` itself, not `help`), depth first. */
export function allCommands(program: Command): Command[] {
  return program.commands.flatMap((c) => [c, ...allCommands(c)]);
}

/** The words that run a command: `['dlq', 'inspect']`. */
export function commandPath(c: Command): string[] {
  const path: string[] = [];
  for (let x: Command | null = c; x?.parent; x = x.parent) path.unshift(x.name());
  return path;
}

import { Command, CommanderError } from 'commander';
import { DefinitionError, LarderError } from '../registry/errors.ts';
import { registerGenDataCommand } from './commands/gen-data-command.ts';
import { registerLabelCommand } from './commands/label-command.ts';
import { registerMaterializeCommands } from './commands/materialize-command.ts';
import { registerRegistryCommands } from './commands/registry-commands.ts';
import { registerTeardownCommand } from './commands/teardown-command.ts';
import { registerExportCommand } from './commands/export-command.ts';
import { registerServeCommand } from './commands/serve-command.ts';
import { registerKeysCommand } from './commands/keys-command.ts';
import { registerStreamCommands } from './commands/stream-command.ts';
import type { GlobalOptions } from './context.ts';

const program = new Command('larder')
  .description('Larder: a TypeScript feature store and ML serving platform')
  .option(
    '--repo <dir>',
    'feature repository folder (default: larder.config.ts repo, or ./features)',
  )
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

const globals = (): GlobalOptions => program.opts<GlobalOptions>();
registerRegistryCommands(program, globals);
registerGenDataCommand(program, globals);
registerExportCommand(program, globals);
registerLabelCommand(program, globals);
registerMaterializeCommands(program, globals);
registerTeardownCommand(program, globals);
registerServeCommand(program, globals);
registerKeysCommand(program, globals);
registerStreamCommands(program, globals);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  process.exitCode = reportError(e);
}

/** Prints an error for a person (what, where, how to fix) and returns the exit code. */
function reportError(e: unknown): number {
  if (e instanceof CommanderError) return e.exitCode;
  if (e instanceof DefinitionError) {
    process.stderr.write(`error: ${e.message}\n`);
    return 1;
  }
  if (e instanceof LarderError) {
    process.stderr.write(`error [${e.code}]: ${e.message}\n${e.hint ? `  hint: ${e.hint}\n` : ''}`);
    return 1;
  }
  process.stderr.write(`error: ${(e as Error).stack ?? String(e)}\n`);
  return 2;
}

/**
 * Commands a project adds to `larder`: `larder.config.ts` lists modules in `commands`, and each
 * module's default export registers its commands on the program. Larder imports them when it
 * builds the command tree, so keep a plugin's top level light and import heavy code inside its
 * actions.
 *
 * @example
 * // examples/ecommerce/cli/commands.ts
 * const commands: CommandPlugin = (program, globals) => registerGenDataCommand(program, globals);
 * export default commands;
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import { LarderError } from '../core/errors.ts';
import { loadConfigFile, moduleDefault } from '../config/config.ts';
import type { GlobalOptions } from './context.ts';

export type CommandPlugin = (program: Command, globals: () => GlobalOptions) => void;

/** The plugins `root/larder.config.ts` names in `commands` (none without the file). */
export async function loadCommandPlugins(root: string): Promise<CommandPlugin[]> {
  const file = (await loadConfigFile(root)) as { commands?: unknown };
  const paths = file.commands ?? [];
  if (!Array.isArray(paths) || paths.some((p) => typeof p !== 'string')) {
    throw new LarderError(
      'LARDER_CONFIG_INVALID',
      'invalid configuration (larder.config.ts): commands must be a list of module paths',
    );
  }
  const plugins: CommandPlugin[] = [];
  for (const p of paths as string[]) {
    // A plain import (bin/larder.js registers tsx), so the plugin shares Larder's modules: its
    // LarderErrors are the CLI's LarderErrors (tsx's tsImport would load a second copy).
    const href = pathToFileURL(resolve(root, p)).href;
    const mod = (await import(href).catch((e: unknown) => {
      throw new LarderError(
        'LARDER_CONFIG_INVALID',
        `larder.config.ts commands: cannot load ${p}: ${(e as Error).message.split('\n')[0]}`,
        {
          hint: 'give a path from the project root to a module whose default export registers commands',
        },
      );
    })) as unknown;
    const register = moduleDefault(mod);
    if (typeof register !== 'function') {
      throw new LarderError(
        'LARDER_CONFIG_INVALID',
        `larder.config.ts commands: ${p} has no default export that registers commands`,
        { hint: 'export default (program, globals) => { program.command(...) }' },
      );
    }
    plugins.push(register as CommandPlugin);
  }
  return plugins;
}

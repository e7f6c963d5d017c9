/**
 * Commands a project adds through `commands` in larder.config.ts (cli/plugin.ts): loaded into the
 * command tree after Larder's own, sharing Larder's modules; a wrong entry is a config error.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LarderError } from '../../core/errors.ts';
import { loadCommandPlugins } from '../../cli/plugin.ts';
import { allCommands, buildProgram, commandPath } from '../../cli/program.ts';

const CONFIG_TS = resolve('config/config.ts');

function project(config: string, files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'larder-plugin-'));
  writeFileSync(join(dir, 'larder.config.ts'), config);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe('project commands (larder.config.ts commands)', () => {
  it('has none without a config file or without commands', async () => {
    expect(await loadCommandPlugins(mkdtempSync(join(tmpdir(), 'larder-plugin-')))).toEqual([]);
    const dir = project(`export default { repo: 'features' };`);
    expect(await loadCommandPlugins(dir)).toEqual([]);
  });

  it('adds the commands of each module after Larder’s own', async () => {
    const dir = project(
      `import { defineConfig } from '${CONFIG_TS}';\nexport default defineConfig({ commands: ['hello.ts'] });`,
      {
        'hello.ts': `export default (program) => { program.command('hello').description('says hello'); };`,
      },
    );
    const plugins = await loadCommandPlugins(dir);
    expect(plugins).toHaveLength(1);
    const names = allCommands(buildProgram(plugins)).map((c) => commandPath(c).join(' '));
    expect(names).toContain('hello');
    expect(names.indexOf('hello')).toBeGreaterThan(names.indexOf('serve'));
  });

  it('the e-commerce example adds gen-data and label in this repository', async () => {
    const names = allCommands(buildProgram(await loadCommandPlugins(process.cwd()))).map((c) =>
      commandPath(c).join(' '),
    );
    expect(names).toEqual(expect.arrayContaining(['gen-data', 'label']));
    expect(allCommands(buildProgram()).map((c) => c.name())).not.toContain('gen-data');
  });

  it.each([
    [`export default { commands: 'x.ts' };`, {}, /commands must be a list of module paths/],
    [`export default { commands: ['missing.ts'] };`, {}, /cannot load missing\.ts/],
    [
      `export default { commands: ['nodefault.ts'] };`,
      { 'nodefault.ts': 'export const x = 1;' },
      /nodefault\.ts has no default export that registers commands/,
    ],
  ])('refuses a wrong entry with LARDER_CONFIG_INVALID: %s', async (config, files, message) => {
    const err = await loadCommandPlugins(project(config, files)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LarderError);
    expect((err as LarderError).code).toBe('LARDER_CONFIG_INVALID');
    expect((err as LarderError).message).toMatch(message);
  });
});

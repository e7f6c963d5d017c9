import { buildProgram } from './program.ts';
import { loadCommandPlugins } from './plugin.ts';
import { debugFromEnv } from '../config/config.ts';
import { reportError } from './report-error.ts';

try {
  const program = buildProgram(await loadCommandPlugins(process.cwd()));
  await program.parseAsync(process.argv);
} catch (e) {
  process.exitCode = reportError(e, undefined, debugFromEnv());
}

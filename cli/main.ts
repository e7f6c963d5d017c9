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
// A `serve --workers` worker (or any child with an IPC channel) would be kept alive by the
// channel after a failed command: leaving it lets the process exit with its code.
if (process.exitCode && process.connected) process.disconnect();

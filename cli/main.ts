import { buildProgram } from './program.ts';
import { reportError } from './report-error.ts';

const program = buildProgram();
try {
  await program.parseAsync(process.argv);
} catch (e) {
  process.exitCode = reportError(e);
}

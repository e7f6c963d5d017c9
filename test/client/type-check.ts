/** Type-checks generated client files the way a user's strict NodeNext project would. */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const ROOT = resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

/**
 * Writes a strict `tsconfig.json` for `files` into `dir` and runs this checkout's `tsc` there;
 * returns its output ('' when the files type-check).
 */
export async function typeCheck(
  dir: string,
  files: string[],
  opts: { typeRoots?: string[] } = {},
): Promise<string> {
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        lib: ['ES2023'],
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noUncheckedIndexedAccess: true,
        noEmit: true,
        skipLibCheck: true,
        types: ['node'],
        ...(opts.typeRoots ? { typeRoots: opts.typeRoots } : {}),
      },
      files,
    }),
  );
  return run(join(ROOT, 'node_modules/.bin/tsc'), ['-p', dir], { cwd: dir }).then(
    () => '',
    (e: { stdout: string }) => e.stdout,
  );
}

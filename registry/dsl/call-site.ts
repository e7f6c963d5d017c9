import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REGISTRY_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..') + '/';

/**
 * The `file:line` of the definition call in the user's repository (the first stack frame
 * outside `registry/`), relative to the working directory. Stack traces are source-mapped by
 * tsx, so lines are the `.ts` lines the user wrote.
 */
export function callSite(): string {
  const stack = new Error().stack?.split('\n').slice(1) ?? [];
  for (const line of stack) {
    const m = /\(?((?:file:\/\/)?\/[^():]+):(\d+):\d+\)?$/.exec(line.trim());
    if (!m) continue;
    const file = m[1]!.startsWith('file://') ? fileURLToPath(m[1]!) : m[1]!;
    if (file.startsWith(REGISTRY_DIR) || file.includes('/node_modules/')) continue;
    return `${relative(process.cwd(), file)}:${m[2]}`;
  }
  return '<unknown>';
}

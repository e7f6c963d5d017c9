import { findSourceMap } from 'node:module';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REGISTRY_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..') + '/';

interface Frame {
  getFileName(): string | null | undefined;
  getLineNumber(): number | null;
  getColumnNumber(): number | null;
}

/** Raw V8 call sites of the current stack (independent of any installed stack formatter). */
function frames(): Frame[] {
  const original = Error.prepareStackTrace;
  Error.prepareStackTrace = (_e, cs) => cs;
  try {
    const holder: { stack?: unknown } = {};
    Error.captureStackTrace(holder, frames);
    return (holder.stack as Frame[] | undefined) ?? [];
  } finally {
    Error.prepareStackTrace = original;
  }
}

/**
 * The `file:line` of the definition call in the user's repository (the first stack frame
 * outside `registry/`), relative to the working directory. Lines are mapped back to the `.ts`
 * source through the source maps tsx emits (the loader enables source maps before importing).
 */
export function callSite(): string {
  for (const f of frames()) {
    const name = f.getFileName();
    if (!name) continue;
    const file = name.startsWith('file://') ? fileURLToPath(name.replace(/\?.*$/, '')) : name;
    if (!file.startsWith('/') || file.startsWith(REGISTRY_DIR) || file.includes('/node_modules/'))
      continue;
    return sourcePosition(name, f.getLineNumber() ?? 0, f.getColumnNumber() ?? 0);
  }
  return '<unknown>';
}

/**
 * `file:line` (relative to the working directory, the line mapped back to the `.ts` source) of
 * a stack position: `name` as V8 reports it (a path or a `file://` URL, query included).
 */
export function sourcePosition(name: string, line: number, col: number): string {
  const file = name.startsWith('file://') ? fileURLToPath(name.replace(/\?.*$/, '')) : name;
  const entry = findSourceMap(name)?.findEntry(line - 1, col - 1);
  if (entry && 'originalLine' in entry && typeof entry.originalLine === 'number')
    line = entry.originalLine + 1;
  return `${relative(process.cwd(), file)}:${line}`;
}

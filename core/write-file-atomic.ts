/**
 * Writes a file all at once or not at all: the bytes go to a uniquely named temp file beside it,
 * which is then renamed over `path`. Readers see the old file or the new one, never a torn
 * one, and concurrent writers (threads or processes) never share a temp file. The folder is
 * created when missing.
 *
 * @example
 * writeFileAtomic('.larder/registry.json', JSON.stringify(registry));
 * writeFileAtomic(keysPath, text, { mode: 0o600 });
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export function writeFileAtomic(
  path: string,
  data: string | ArrayBufferView,
  options: { mode?: number } = {},
): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${randomUUID()}.tmp`;
  try {
    writeFileSync(
      tmp,
      typeof data === 'string'
        ? data
        : new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      options,
    );
    renameSync(tmp, path);
  } finally {
    rmSync(tmp, { force: true });
  }
}

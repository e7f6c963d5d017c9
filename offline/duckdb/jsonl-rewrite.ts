/**
 * A JSON Lines file DuckDB's line reader (`read_csv` in `sql/read-source.ts`) refuses as a
 * whole — a lone `\r` line break, bytes that are not UTF-8, a raw U+001F (its column
 * delimiter) — rewritten line by line the way the reject examples read it (`jsonl-lines.ts`):
 * every line break becomes `\n`, bytes that are not UTF-8 become U+FFFD (as Node decodes them),
 * and a line holding U+001F — never JSON, raw control characters are not allowed — becomes `{`,
 * invalid JSON to both validators. The rewritten file has the same non-blank lines in the same
 * order, so one bad byte costs the records it is in, not the file.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { jsonlLines } from './jsonl-lines.ts';

export async function rewriteJsonl(file: string, out: string): Promise<void> {
  const ws = createWriteStream(out);
  try {
    for await (const line of jsonlLines(file)) {
      if (!ws.write(`${line.includes('\x1f') ? '{' : line}\n`)) await once(ws, 'drain');
    }
  } finally {
    ws.end();
    await once(ws, 'close');
  }
}

/**
 * A JSON Lines file DuckDB's line reader (`read_csv` in `sql/read-source.ts`) refuses as a
 * whole — a lone `\r` line break, bytes that are not UTF-8, a raw U+001F (its column
 * delimiter) — rewritten line by line the way the reject examples read it (`jsonl-lines.ts`):
 * every line break becomes `\n`, bytes that are not UTF-8 become U+FFFD (as Node decodes them),
 * and a line holding U+001F — never JSON, raw control characters are not allowed — becomes `{`,
 * invalid JSON to both validators; a line longer than 16 MiB (DuckDB's line reader refuses it:
 * `MAX_LINE_BYTES`) becomes `LONG_LINE_MARK`, rejected as such by the SQL of a rewritten file
 * (`rewritten` in `sql/read-source.ts`). The rewritten file has the same non-blank lines in the
 * same order, so one bad byte or one huge line costs the records it is in, not the file.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { jsonlLines } from './jsonl-lines.ts';
import { lineTooLong, LONG_LINE_MARK } from '../validate-record.ts';

function rewritten(line: string): string {
  if (line.includes('\x1f') || line === LONG_LINE_MARK) return '{';
  if (lineTooLong(line)) return line.trim() === '' ? '' : LONG_LINE_MARK;
  return line;
}

export async function rewriteJsonl(file: string, out: string): Promise<void> {
  const ws = createWriteStream(out);
  try {
    for await (const line of jsonlLines(file)) {
      if (!ws.write(`${rewritten(line)}\n`)) await once(ws, 'drain');
    }
  } finally {
    ws.end();
    await once(ws, 'close');
  }
}

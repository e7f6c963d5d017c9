/**
 * The lines of a JSON Lines file as the DuckDB loader reads them (`read_csv` in
 * `sql/read-source.ts`), numbered from 1 for the reject examples: split at `\n`, `\r\n` or `\r`,
 * with a byte-order mark at the start of the file not part of line 1 (DuckDB drops it too, so a
 * file saved "with BOM" is not one reject short in its examples).
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

export async function* jsonlLines(file: string): AsyncGenerator<string> {
  const rl = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  let first = true;
  try {
    for await (const line of rl) {
      yield first && line.startsWith('\ufeff') ? line.slice(1) : line;
      first = false;
    }
  } finally {
    rl.close();
  }
}

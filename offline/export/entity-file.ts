/**
 * Reads an entity file (CSV/TSV, JSON Lines, Parquet) into a DuckDB table, refusing what cannot
 * be read faithfully with one precise error: malformed CSV lines (quoting, field counts) and
 * invalid JSON lines with their line numbers, a file that is not in the format of its extension.
 * The join keys and `event_timestamp` of CSV files are read as text (DuckDB would type them by
 * content otherwise); a JSON or Parquet file keeps its own types.
 */
import {
  closeSync,
  createReadStream,
  createWriteStream,
  openSync,
  readSync,
  rmSync,
} from 'node:fs';
import { basename, extname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { LarderError } from '../../core/errors.ts';
import { jsonlLines } from '../duckdb/jsonl-lines.ts';
import { ident, sqlString, type DuckDBClient } from '../local/duckdb-client.ts';

const MAX_LISTED = 5;
const JSON_EXTENSIONS = ['.jsonl', '.json', '.ndjson'];

/** DuckDB's message without its SQL and caret, nor its error class. */
const duckMessage = (e: unknown): string =>
  (((e as Error).message ?? String(e)).split('\n')[0] ?? '').replace(/^[A-Za-z ]*Error: /, '');

const FORMAT_HINT =
  'entity rows are .csv, .tsv, .jsonl or .parquet files; check that the file is in the format its extension says';

/** Creates temp table `table` with every column of the entity file at `path`. */
export async function loadEntityFile(
  client: DuckDBClient,
  path: string,
  table: string,
  textColumns: readonly string[],
  name: (prefix: string) => string,
  tmpDir: string,
): Promise<void> {
  const ext = extname(path).toLowerCase();
  const p = sqlString(path);
  if (ext !== '.parquet' && isUtf16(path))
    throw new LarderError('LARDER_BAD_REQUEST', `entity file ${path} is UTF-16 text`, {
      detail: { reason: 'malformed_file' },
      hint: 'save it as UTF-8 (e.g. iconv -f UTF-16 -t UTF-8; "CSV UTF-8" in a spreadsheet)',
    });
  if (ext === '.csv' || ext === '.tsv') {
    await loadCsv(client, path, table, textColumns, name);
    return;
  }
  if (JSON_EXTENSIONS.includes(ext)) {
    // A byte-order mark is not part of line 1 (as in a CSV file or a batch source's JSON Lines
    // file), but DuckDB's JSON reader refuses it: it reads a copy without the mark.
    const readable = startsWithBom(path) ? await copyWithoutBom(path, tmpDir, name) : path;
    try {
      // `records`: every line must be an object; without it DuckDB reads a file of arrays,
      // numbers or strings (or a mix of them with objects) as one column named `json`.
      await client.run(
        `CREATE TEMP TABLE ${table} AS SELECT * FROM read_json(${sqlString(readable)}, format = 'newline_delimited', records = true)`,
      );
    } catch (e) {
      const bad = await nonObjectLines(path);
      if (bad.lines.length > 0) throw nonObjectLinesError(path, bad, e);
      if (bad.objects === 0) {
        // Nothing but blank lines: no entity rows, as a CSV file of only a header line.
        const cols = textColumns.map((c) => `NULL::VARCHAR AS ${ident(c)}`).join(', ');
        await client.run(`CREATE TEMP TABLE ${table} AS SELECT ${cols} LIMIT 0`);
        return;
      }
      throw new LarderError(
        'LARDER_BAD_REQUEST',
        `cannot read entity file ${path} as JSON Lines: ${duckMessage(e)}`,
        { detail: { reason: 'malformed_file' }, hint: FORMAT_HINT, cause: e },
      );
    } finally {
      if (readable !== path) rmSync(readable, { force: true });
    }
    return;
  }
  if (ext === '.parquet') {
    try {
      await client.run(`CREATE TEMP TABLE ${table} AS SELECT * FROM read_parquet(${p})`);
    } catch (e) {
      throw new LarderError(
        'LARDER_BAD_REQUEST',
        `entity file ${path} is not a readable Parquet file: ${duckMessage(e)}`,
        { detail: { reason: 'malformed_file' }, hint: FORMAT_HINT, cause: e },
      );
    }
    return;
  }
  throw new LarderError('LARDER_BAD_REQUEST', `cannot read entity rows from "${path}"`, {
    detail: { reason: 'unsupported_format' },
    hint: 'use a .csv, .tsv, .jsonl or .parquet file',
  });
}

const listLines = (lines: readonly string[], count: number): string =>
  `${lines.join('; ')}${count > lines.length ? `; … ${count - lines.length} more` : ''}`;

const excerpt = (s: string): string => {
  const one = s.replace(/\r?\n$/, '').split(/\r?\n/)[0] ?? '';
  return JSON.stringify(one.length > 40 ? `${one.slice(0, 40)}…` : one);
};

const CSV_PROBLEMS: Record<string, string> = {
  'UNQUOTED VALUE': 'unterminated or stray quote',
  'TOO MANY COLUMNS': 'too many fields',
  'MISSING COLUMNS': 'too few fields',
  'LINE SIZE OVER MAXIMUM': 'line too long',
  'INVALID ENCODING': 'not UTF-8',
  'INVALID STATE': 'malformed quoting',
};

async function loadCsv(
  client: DuckDBClient,
  path: string,
  table: string,
  textColumns: readonly string[],
  name: (prefix: string) => string,
): Promise<void> {
  const p = sqlString(path);
  // The delimiter and the column names come from the header line, the column types from
  // DuckDB's sniffer (all text when it cannot tell); the file is then read with standard quoting
  // and every line that does not fit is reported — not read leniently, which turns `"p00112,2026`
  // into a product id with a quote.
  const header = firstLineOf(path);
  const delim = ext(path) === '.tsv' ? '\t' : guessDelimiter(header);
  const names = splitHeader(header, delim);
  if (names.length === 0 || names.some((n) => n === ''))
    throw new LarderError(
      'LARDER_BAD_REQUEST',
      `entity file ${path}: line 1 is not a header of column names: ${excerpt(header)}`,
      {
        detail: { reason: 'malformed_file' },
        hint: `start the file with a header line, e.g. user_id,${'event_timestamp'}`,
      },
    );
  // DuckDB's column names ignore case: `User_Id` and `user_id` are one name twice.
  const twice = names.find(
    (n, i) => names.findIndex((m) => m.toLowerCase() === n.toLowerCase()) < i,
  );
  if (twice !== undefined)
    throw new LarderError(
      'LARDER_BAD_REQUEST',
      `entity file ${path}: line 1 names the column ${twice} twice`,
      {
        detail: { reason: 'malformed_file' },
        hint: 'rename or remove one of the two columns (names are compared ignoring case)',
      },
    );
  const dialect = `header = true, delim = ${sqlString(delim)}, quote = '"', escape = '"'`;
  const types = new Map<string, string>();
  // The sniffer only types the other columns: none, nothing to sniff.
  if (names.some((n) => !textColumns.includes(n)))
    try {
      const sniffed = await client.all(
        `SELECT unnest(Columns, recursive := true) FROM sniff_csv(${p}, ${dialect})`,
      );
      for (const c of sniffed) types.set(String(c.name), String(c.type));
    } catch {
      // Malformed lines can defeat the sniffer: read every column as text, report the lines below.
    }
  const cols = names.map((col) => {
    const type = textColumns.includes(col) ? 'VARCHAR' : (types.get(col) ?? 'VARCHAR');
    return `${sqlString(col)}: ${sqlString(type)}`;
  });
  const rejects = name('csv_rejects');
  const scans = name('csv_scans');
  try {
    await client.run(
      `CREATE TEMP TABLE ${table} AS SELECT * FROM read_csv(${p}, auto_detect = false, ${dialect}, allow_quoted_nulls = false, columns = {${cols.join(', ')}}, store_rejects = true, rejects_table = ${sqlString(rejects)}, rejects_scan = ${sqlString(scans)})`,
    );
    const bad = await client.all(
      `SELECT line, error_type, any_value(csv_line) AS text, any_value(error_message) AS message, count(*) OVER () AS n FROM ${ident(rejects)} GROUP BY line, error_type ORDER BY line LIMIT ${MAX_LISTED}`,
    );
    if (bad.length > 0) {
      const count = Number(bad[0]!.n);
      const lines = bad.map((b) => {
        const kind = String(b.error_type);
        const what = CSV_PROBLEMS[kind] ?? String(b.message).split('\n')[0];
        return `line ${Number(b.line)} (${what}): ${excerpt(String(b.text))}`;
      });
      await client.run(`DROP TABLE ${table}`);
      throw new LarderError(
        'LARDER_BAD_REQUEST',
        `entity file ${path}: ${count} malformed line${count === 1 ? '' : 's'}: ${listLines(lines, count)}`,
        {
          detail: { reason: 'malformed_file' },
          hint: `fix or remove ${count === 1 ? 'it' : 'them'}; a field holding the delimiter or a quote is written in quotes, "a,b", with "" for a quote`,
        },
      );
    }
  } catch (e) {
    if (e instanceof LarderError) throw e;
    throw new LarderError(
      'LARDER_BAD_REQUEST',
      `cannot read entity file ${path} as CSV: ${duckMessage(e)}`,
      { detail: { reason: 'malformed_file' }, hint: FORMAT_HINT, cause: e },
    );
  } finally {
    await client.run(
      `DROP TABLE IF EXISTS ${ident(rejects)}; DROP TABLE IF EXISTS ${ident(scans)}`,
    );
  }
}

const ext = (path: string): string => extname(basename(path)).toLowerCase();

/**
 * The first line of a file (at most 1 MB), without its line break. Only the bytes before the
 * first newline are decoded (a newline byte is never part of another UTF-8 character): the
 * whole megabyte decoded and split into lines cost ≈ 20 ms of a million-row file's load.
 */
function firstLineOf(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const end = buf.subarray(0, n).indexOf(0x0a);
    const line = buf
      .subarray(0, end < 0 ? n : end)
      .toString('utf8')
      .replace(/^\uFEFF/, '');
    return end >= 0 && line.endsWith('\r') ? line.slice(0, -1) : line;
  } finally {
    closeSync(fd);
  }
}

/** The delimiter of a header line: the most frequent of , ; | and tab (default ,). */
function guessDelimiter(header: string): string {
  let best = ',';
  let most = 0;
  for (const d of [',', '\t', ';', '|']) {
    const n = header.split(d).length - 1;
    if (n > most) [best, most] = [d, n];
  }
  return best;
}

/** The column names of a CSV header line (quoted names may hold the delimiter). */
function splitHeader(header: string, delim: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < header.length; i++) {
    const ch = header[i]!;
    if (quoted && ch === '"' && header[i + 1] === '"') {
      cur += '"';
      i++;
    } else if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === delim) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  out.push(cur.trim());
  return out;
}

interface NonObjectLines {
  /** The first few, each `line N (problem): excerpt`. */
  lines: string[];
  /** How many lines are not JSON objects. */
  count: number;
  /** How many lines are. */
  objects: number;
}

/**
 * The lines (numbered from 1, a leading byte-order mark not part of line 1) of a JSON Lines
 * file that are not JSON objects: invalid JSON, or JSON of another kind (an array, a number, a
 * string, `null`).
 */
async function nonObjectLines(path: string): Promise<NonObjectLines> {
  const lines: string[] = [];
  let count = 0;
  let objects = 0;
  let n = 0;
  for await (const line of jsonlLines(path)) {
    n++;
    if (line.trim() === '') continue;
    let problem: string | undefined;
    try {
      const v: unknown = JSON.parse(line);
      if (typeof v !== 'object' || v === null || Array.isArray(v)) problem = 'not an object';
    } catch {
      problem = 'invalid JSON';
    }
    if (problem === undefined) {
      objects++;
      continue;
    }
    count++;
    if (lines.length < MAX_LISTED) lines.push(`line ${n} (${problem}): ${excerpt(line)}`);
  }
  return { lines, count, objects };
}

const nonObjectLinesError = (path: string, bad: NonObjectLines, cause?: unknown): LarderError =>
  new LarderError(
    'LARDER_BAD_REQUEST',
    `entity file ${path}: ${bad.count} line${bad.count === 1 ? ' is' : 's are'} not a JSON object: ${listLines(bad.lines, bad.count)}`,
    {
      detail: { reason: 'malformed_file' },
      hint: 'each line of a JSON Lines file is one object, e.g. {"user_id": "u1", "event_timestamp": "2026-11-27T10:00:00Z"}',
      ...(cause === undefined ? {} : { cause }),
    },
  );

/**
 * The error naming the lines of a JSON Lines entity file that are not objects, if it has any.
 * DuckDB's reader refuses every such line but `null`, which it reads as a row of nulls: a row
 * whose `event_timestamp` is null looks here first.
 */
export async function nonObjectLinesOf(path: string): Promise<LarderError | undefined> {
  if (!JSON_EXTENSIONS.includes(ext(path))) return undefined;
  const bad = await nonObjectLines(path);
  return bad.count > 0 ? nonObjectLinesError(path, bad) : undefined;
}

/** The first `n` bytes of a file (fewer if it is shorter). */
function headOf(path: string, n: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(n);
    return head.subarray(0, readSync(fd, head, 0, n, 0));
  } finally {
    closeSync(fd);
  }
}

const startsWithBom = (path: string): boolean => headOf(path, 3).equals(BOM);

/** Whether a text file starts with a UTF-16 byte-order mark (what spreadsheets save as "Unicode"). */
function isUtf16(path: string): boolean {
  const head = headOf(path, 2);
  return (
    head.length === 2 &&
    ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff))
  );
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** A copy of the file at `path` without its first three bytes (its byte-order mark). */
async function copyWithoutBom(
  path: string,
  tmpDir: string,
  name: (prefix: string) => string,
): Promise<string> {
  const copy = join(tmpDir, `${name('entities')}.jsonl`);
  await pipeline(createReadStream(path, { start: BOM.length }), createWriteStream(copy));
  return copy;
}

/**
 * The slice of `@duckdb/node-api` the offline store uses, behind a small wrapper: run a
 * statement, read a small result as JS objects, stream a large one chunk by chunk as columns.
 */
import {
  DuckDBDataChunk,
  DuckDBInstance,
  DuckDBListValue,
  listValue,
  type DuckDBListType,
  DuckDBTypeId,
  DuckDBVarCharVector,
  type DuckDBConnection,
  type DuckDBResult,
  type DuckDBValue,
} from '@duckdb/node-api';
import { createRequire } from 'node:module';

/**
 * @duckdb/node-api decodes every VARCHAR with one shared default `TextDecoder`, which drops a
 * leading byte-order mark (U+FEFF): an entity key or value "\ufeffu1" read back as "u1" (the
 * fuzzer found materialized tiles written under the wrong key). Its decoder is a mutable
 * export of the module that reads strings; one that keeps the mark replaces it, once, for
 * every client in the process (`test/offline/duckdb-client-strings.test.ts`).
 */
const accessors = createRequire(import.meta.url)(
  '@duckdb/node-api/lib/vectors/dataAccessors.js',
) as { textDecoder: { decode(bytes: Uint8Array): string } };
accessors.textDecoder = new TextDecoder('utf-8', { ignoreBOM: true });

export type SqlValue = string | number | boolean | bigint | null;

/** A chunk of a result as columns of JS values (BIGINT → number, other scalars as is). */
export interface ColumnChunk {
  size: number;
  columns: unknown[][];
}

/**
 * Statement timings on stderr (profiling, `config.trace.sql`): `statements` prints each
 * statement's duration with its first 160 characters, `full` with the whole SQL.
 */
export type SqlTrace = 'off' | 'statements' | 'full';

export class DuckDBClient {
  #instance: DuckDBInstance;
  #conn: DuckDBConnection;
  readonly #trace: SqlTrace;
  /** Whether `close` closes the database too (false for a {@link sibling}). */
  readonly #owner: boolean;

  private constructor(
    instance: DuckDBInstance,
    conn: DuckDBConnection,
    trace: SqlTrace,
    owner = true,
  ) {
    this.#instance = instance;
    this.#conn = conn;
    this.#trace = trace;
    this.#owner = owner;
  }

  static async open(
    settings: Record<string, string>,
    trace: SqlTrace = 'off',
  ): Promise<DuckDBClient> {
    const instance = await DuckDBInstance.create(':memory:', settings);
    const conn = await instance.connect();
    return new DuckDBClient(instance, conn, trace);
  }

  /**
   * Another connection to the same database, with this one's session settings (time zone,
   * progress): its statements run alongside this connection's, on the same DuckDB threads.
   * Temp tables are not shared. Its `close` closes only it.
   */
  async sibling(): Promise<DuckDBClient> {
    const conn = await this.#instance.connect();
    const sibling = new DuckDBClient(this.#instance, conn, this.#trace, false);
    try {
      const local = `SELECT name, value FROM duckdb_settings() WHERE scope = 'LOCAL'`;
      const theirs = new Map((await sibling.all(local)).map((r) => [r.name, r.value]));
      for (const r of await this.all(local))
        if (theirs.get(r.name) !== r.value)
          await sibling.run(`SET ${ident(String(r.name))} = ${sqlString(String(r.value))}`);
    } catch (e) {
      sibling.close();
      throw e;
    }
    return sibling;
  }

  async run(sql: string): Promise<void> {
    const trace = this.#trace !== 'off';
    const t0 = trace ? performance.now() : 0;
    await this.#conn.run(sql);
    if (trace)
      process.stderr.write(
        `[duckdb] ${(performance.now() - t0).toFixed(0)} ms  ${this.#trace === 'full' ? sql : sql.slice(0, 160).replace(/\s+/g, ' ')}\n`,
      );
  }

  /** Small results only: every row as an object, BIGINT as number. */
  async all(sql: string): Promise<Record<string, unknown>[]> {
    const reader = await this.#conn.runAndReadAll(sql);
    const names = reader.columnNames();
    const out: Record<string, unknown>[] = [];
    for (const row of reader.getRows()) {
      const o: Record<string, unknown> = {};
      names.forEach((n, i) => (o[n] = toJs(row[i])));
      out.push(o);
    }
    return out;
  }

  /**
   * Streams a result: column names, then chunks of columns (JS values, the caller's to keep).
   * One chunk ahead, as {@link streamRaw}: DuckDB produces the next chunk while the caller
   * handles this one.
   */
  async *stream(sql: string): AsyncGenerator<ColumnChunk & { names: string[] }> {
    const result = await this.#conn.stream(sql);
    const names = result.columnNames();
    for await (const chunk of chunksAhead(result)) {
      // `getColumns` builds new arrays: converted in place, not copied again.
      const columns = chunk.getColumns() as unknown[][];
      for (const col of columns) for (let r = 0; r < col.length; r++) col[r] = toJs(col[r]);
      yield { names, size: chunk.rowCount, columns };
    }
  }

  /**
   * Streams a result without converting values: each chunk exposes its numeric columns as the
   * typed arrays DuckDB filled (valid only until the caller asks for the next chunk; copy what you keep)
   * and reads text cells one at a time. For the hot paths that move millions of numbers.
   */
  async *streamRaw(sql: string): AsyncGenerator<RawChunk> {
    const trace = this.#trace !== 'off';
    const t0 = trace ? performance.now() : 0;
    const result = await this.#conn.stream(sql);
    let rows = 0;
    for await (const chunk of chunksAhead(result)) {
      rows += chunk.rowCount;
      const vectors = Array.from(
        { length: chunk.columnCount },
        (_, i) => chunk.getColumnVector(i) as unknown as RawVector,
      );
      yield {
        size: chunk.rowCount,
        numbers: (i) => {
          const items = vectors[i]!.items;
          if (!ArrayBuffer.isView(items))
            throw new Error(`column ${i} is not a fixed-width numeric column`);
          return items as RawNumbers;
        },
        text: (i, row) => {
          const v = vectors[i]!.getItem(row);
          return v === null ? null : String(v);
        },
        value: (i, row) => toJs(vectors[i]!.getItem(row)),
        sameText: (i, a, b) => sameShortText(vectors[i]!, a, b),
      };
    }
    if (trace)
      process.stderr.write(
        `[duckdb] ${(performance.now() - t0).toFixed(0)} ms  (${rows} rows streamed) ${this.#trace === 'full' ? sql : sql.slice(0, 140).replace(/\s+/g, ' ')}\n`,
      );
  }

  /**
   * Appends columns of JS values to an existing table (columns in table order, equal lengths):
   * numbers become BIGINT where the column is BIGINT, arrays become LISTs (of BIGINT likewise).
   */
  async appendColumns(table: string, columns: readonly (readonly unknown[])[]): Promise<void> {
    const appender = await this.#conn.createAppender(table);
    try {
      const n = columns[0]?.length ?? 0;
      const types = columns.map((_, i) => appender.columnType(i));
      const CHUNK = 2048;
      for (let off = 0; off < n; off += CHUNK) {
        const size = Math.min(CHUNK, n - off);
        const chunk = DuckDBDataChunk.create(types, size);
        columns.forEach((col, i) => {
          const type = types[i];
          const list = type?.typeId === DuckDBTypeId.LIST;
          const item = list ? (type as DuckDBListType).valueType : type;
          const big = item?.typeId === DuckDBTypeId.BIGINT;
          const one = (v: unknown): DuckDBValue =>
            big ? BigInt(Math.trunc(v as number)) : (v as DuckDBValue);
          const values: DuckDBValue[] = new Array(size);
          for (let j = 0; j < size; j++) {
            const v = col[off + j];
            values[j] =
              v === null || v === undefined
                ? null
                : list
                  ? listValue((v as unknown[]).map(one))
                  : one(v);
          }
          chunk.setColumnValues(i, values);
        });
        appender.appendDataChunk(chunk);
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
  }

  /**
   * How far the running statement is, 0–100 (DuckDB's estimate from the rows its scans have
   * read), or null when DuckDB cannot tell. Needs `enable_progress_bar` (set by
   * `LocalDatabase`); callable while a statement runs.
   */
  progress(): number | null {
    const p = this.#conn.progress.percentage;
    return p >= 0 ? p : null;
  }

  close(): void {
    this.#conn.closeSync();
    if (this.#owner) this.#instance.closeSync();
  }
}

/** The typed array behind a fixed-width DuckDB vector (INTEGER, DOUBLE, UTINYINT, …). */
export type RawNumbers = Float64Array | Int32Array | Uint8Array | Int8Array | Int16Array;

/** One chunk of {@link DuckDBClient.streamRaw}. */
export interface RawChunk {
  size: number;
  /** Column `i`'s values (nulls hold garbage: select non-null columns, e.g. with COALESCE). */
  numbers(i: number): RawNumbers;
  /** Column `i`, row `row` as text (null for NULL). */
  text(i: number, row: number): string | null;
  /** Column `i`, row `row` as {@link DuckDBClient.stream} gives it (`toJs`). */
  value(i: number, row: number): unknown;
  /**
   * Whether VARCHAR column `i` holds the same text at rows `a` and `b`, read from DuckDB's
   * bytes without decoding either: true only for two non-null strings of at most 12 bytes
   * (stored inline) with equal bytes; false means "not known equal" (longer strings, nulls,
   * other columns): decode and compare those.
   */
  sameText(i: number, a: number, b: number): boolean;
}

/**
 * The slice of a `@duckdb/node-api` vector `streamRaw` reads (`items` is its typed array;
 * `dataView` a VARCHAR vector's 16-byte string entries, `validity` its nulls).
 */
interface RawVector {
  readonly items?: unknown;
  readonly dataView?: unknown;
  readonly validity?: { itemValid?(row: number): boolean };
  getItem(row: number): unknown;
}

/**
 * {@link RawChunk.sameText}: DuckDB stores a string of at most 12 bytes inline in its 16-byte
 * entry (a 4-byte length, then the bytes), so two such entries hold the same text exactly when
 * their lengths and bytes are equal.
 */
function sameShortText(v: RawVector, a: number, b: number): boolean {
  if (!((v as unknown) instanceof DuckDBVarCharVector)) return false;
  const dv = v.dataView;
  if (!(dv instanceof DataView)) return false;
  const oa = a * 16;
  const ob = b * 16;
  const len = dv.getUint32(oa, true);
  if (len > 12 || len !== dv.getUint32(ob, true)) return false;
  if (v.validity?.itemValid?.(a) !== true || v.validity.itemValid(b) !== true) return false;
  for (let k = 4; k < 4 + len; k++) if (dv.getUint8(oa + k) !== dv.getUint8(ob + k)) return false;
  return true;
}

/** DuckDB values to plain JS: bigint → number (int64 features and ms timestamps fit in 2^53). */
export function toJs(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (v === null || typeof v !== 'object') return v;
  if (v instanceof DuckDBListValue) return v.items.map(toJs);
  return String(v);
}

/** A SQL string literal. */
export const sqlString = (s: string): string => `'${s.replaceAll("'", "''")}'`;
/** A quoted SQL identifier. */
export const ident = (s: string): string => `"${s.replaceAll('"', '""')}"`;

/**
 * A result's chunks, one ahead: DuckDB produces the next chunk (on a libuv thread: for a sorted
 * result, one thread scanning the sort) while the caller handles this one on the main thread,
 * instead of the two taking turns on one core. A caller that stops early: the fetch under way
 * ends before the connection runs anything else.
 */
async function* chunksAhead(result: DuckDBResult): AsyncGenerator<DuckDBDataChunk> {
  const fetch = (): Promise<DuckDBDataChunk | null> => {
    const p = result.fetchChunk();
    p.catch(() => undefined); // awaited below: a failure is thrown there, not unhandled
    return p;
  };
  let next = fetch();
  try {
    for (;;) {
      const chunk = await next;
      if (!chunk || chunk.rowCount === 0) return;
      next = fetch();
      yield chunk;
    }
  } finally {
    await next.catch(() => undefined);
  }
}

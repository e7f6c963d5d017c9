/**
 * Appends DOUBLE columns held in Float64Arrays to a Parquet file another writer made (DuckDB),
 * row group by row group, keeping its bytes and extending its footer — so one scan of the file
 * reads the other writer's columns and these in row order: no join, no sort. The new columns
 * are required, PLAIN, uncompressed, one data page per column chunk; the arrays' bytes go to
 * the file as they are (no per-value conversion), and NaN stays NaN (readers turn it into NULL
 * with `nullif(x, 'NaN'::DOUBLE)`). For temporary files.
 *
 * @example
 * // COPY (SELECT user_id FROM ent ORDER BY __rid) TO '/tmp/e.parquet' (FORMAT parquet)
 * appendDoubleColumns('/tmp/e.parquet', [{ name: 'x', values: Float64Array.of(1, 2) }]);
 * // SELECT user_id, x FROM read_parquet('/tmp/e.parquet') → rows in the same order
 */
import { closeSync, openSync, readSync, fstatSync, ftruncateSync, writeSync } from 'node:fs';
import {
  decodeStruct,
  encodeStruct,
  field,
  list,
  req,
  struct,
  T,
  utf8,
  type TList,
  type TStruct,
} from './thrift-compact.ts';

export interface DoubleColumn {
  name: string;
  values: Float64Array;
}

const DOUBLE = 5;
const REQUIRED = 0;
const PLAIN = 0;
const RLE = 3;
const MAGIC = Buffer.from('PAR1');

const schemaElement = (name: string): TStruct =>
  struct([1, T.I32, DOUBLE], [3, T.I32, REQUIRED], [4, T.BINARY, utf8(name)]);

/** Appends to an open file descriptor, tracking the offset. */
class Sink {
  constructor(
    readonly fd: number,
    public offset: number,
  ) {}
  write(b: Uint8Array): void {
    let done = 0;
    while (done < b.byteLength)
      done += writeSync(this.fd, b, done, b.byteLength - done, this.offset + done);
    this.offset += b.byteLength;
  }
}

/** Writes rows `[r0, r0 + n)` of `col` as one column chunk; returns its ColumnChunk struct. */
function writeChunk(
  sink: Sink,
  col: DoubleColumn,
  r0: number,
  n: number,
): { chunk: TStruct; size: number } {
  const start = sink.offset;
  const data = new Uint8Array(col.values.buffer, col.values.byteOffset + r0 * 8, n * 8);
  sink.write(
    encodeStruct(
      struct(
        [1, T.I32, 0], // DATA_PAGE
        [2, T.I32, data.byteLength],
        [3, T.I32, data.byteLength],
        [5, T.STRUCT, struct([1, T.I32, n], [2, T.I32, PLAIN], [3, T.I32, RLE], [4, T.I32, RLE])],
      ),
    ),
  );
  sink.write(data);
  const size = sink.offset - start;
  const meta = struct(
    [1, T.I32, DOUBLE],
    [2, T.LIST, list(T.I32, [PLAIN, RLE])],
    [3, T.LIST, list(T.BINARY, [utf8(col.name)])],
    [4, T.I32, 0], // UNCOMPRESSED
    [5, T.I64, BigInt(n)],
    [6, T.I64, BigInt(size)],
    [7, T.I64, BigInt(size)],
    [9, T.I64, BigInt(start)],
  );
  return { chunk: struct([2, T.I64, BigInt(start)], [3, T.STRUCT, meta]), size };
}

function writeFooter(sink: Sink, meta: TStruct): void {
  const footer = encodeStruct(meta);
  sink.write(footer);
  const len = Buffer.alloc(4);
  len.writeInt32LE(footer.byteLength);
  sink.write(len);
  sink.write(MAGIC);
}

/**
 * Adds `columns` (one value per row of the file) to the Parquet file at `path`, in place: the
 * footer is cut off, each row group gets a chunk of every new column, and the footer is
 * written again with the new schema elements, chunks and column orders.
 */
export function appendDoubleColumns(path: string, columns: readonly DoubleColumn[]): void {
  const fd = openSync(path, 'r+');
  try {
    const size = fstatSync(fd).size;
    const tail = Buffer.alloc(8);
    readSync(fd, tail, 0, 8, size - 8);
    if (!tail.subarray(4).equals(MAGIC)) throw new Error(`${path} is not a Parquet file`);
    const footerLen = tail.readInt32LE(0);
    const footerStart = size - 8 - footerLen;
    const footer = Buffer.alloc(footerLen);
    readSync(fd, footer, 0, footerLen, footerStart);
    const [meta] = decodeStruct(footer);

    const rows = Number(req<bigint>(meta, 3));
    for (const c of columns)
      if (c.values.length !== rows)
        throw new Error(`column ${c.name} has ${c.values.length} values, the file ${rows} rows`);
    const schema = req<TList>(meta, 2).items as TStruct[];
    const root = field(schema[0]!, 5)!;
    root.value = (root.value as number) + columns.length;
    schema.push(...columns.map((c) => schemaElement(c.name)));

    ftruncateSync(fd, footerStart);
    const sink = new Sink(fd, footerStart);
    let r0 = 0;
    for (const rg of req<TList>(meta, 4).items as TStruct[]) {
      const n = Number(req<bigint>(rg, 3));
      const chunks = columns.map((c) => writeChunk(sink, c, r0, n));
      req<TList>(rg, 1).items.push(...chunks.map((c) => c.chunk));
      const added = BigInt(chunks.reduce((s, c) => s + c.size, 0));
      for (const id of [2, 6]) {
        const f = field(rg, id);
        if (f) f.value = (f.value as bigint) + added;
      }
      r0 += n;
    }
    const orders = field(meta, 7);
    if (orders && (orders.value as TList).items.length > 0) {
      const items = (orders.value as TList).items;
      items.push(...columns.map(() => items[0]!));
    }
    writeFooter(sink, meta);
  } finally {
    closeSync(fd);
  }
}

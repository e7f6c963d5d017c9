/**
 * Writes DOUBLE columns held in Float64Arrays as a minimal Parquet file (required columns,
 * PLAIN encoding, uncompressed, one data page per column chunk), so DuckDB can read numbers
 * computed in JavaScript at memory speed and in parallel (one row group per `rowGroupSize`
 * rows). The arrays' bytes go to the file as they are: no per-value conversion, no copy.
 *
 * Used for temporary files only (the export's feature columns on their way into the output
 * query); NaN is written as NaN, and readers turn it into NULL with `nullif(x, 'NaN'::DOUBLE)`.
 *
 * @example
 * writeDoubleParquet('/tmp/f.parquet', [{ name: 'x', values: Float64Array.of(1, 2) }]);
 * // SELECT sum(x) FROM read_parquet('/tmp/f.parquet') → 3
 */
import { closeSync, openSync, writeSync } from 'node:fs';

/** Thrift compact protocol, just what Parquet's footer and page headers need. */
class Compact {
  readonly bytes: number[] = [];
  #last: number[] = [0];

  #varint(n: bigint): void {
    let v = n;
    while (v >= 0x80n) {
      this.bytes.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.bytes.push(Number(v));
  }
  #zigzag(n: number): void {
    const v = BigInt(n);
    this.#varint(v >= 0n ? v << 1n : (-v << 1n) - 1n);
  }
  #field(id: number, type: number): void {
    const last = this.#last[this.#last.length - 1]!;
    const delta = id - last;
    if (delta > 0 && delta <= 15) this.bytes.push((delta << 4) | type);
    else {
      this.bytes.push(type);
      this.#zigzag(id);
    }
    this.#last[this.#last.length - 1] = id;
  }
  i32(id: number, v: number): this {
    this.#field(id, 5);
    this.#zigzag(v);
    return this;
  }
  i64(id: number, v: number): this {
    this.#field(id, 6);
    this.#zigzag(v);
    return this;
  }
  string(id: number, s: string): this {
    this.#field(id, 8);
    const b = Buffer.from(s, 'utf8');
    this.#varint(BigInt(b.length));
    for (const x of b) this.bytes.push(x);
    return this;
  }
  /** A list field; `write` emits each element (structs via `elem`, scalars via `raw*`). */
  list(id: number, elemType: number, items: number, write: () => void): this {
    this.#field(id, 9);
    if (items < 15) this.bytes.push((items << 4) | elemType);
    else {
      this.bytes.push(0xf0 | elemType);
      this.#varint(BigInt(items));
    }
    write();
    return this;
  }
  rawI32(v: number): this {
    this.#zigzag(v);
    return this;
  }
  rawString(s: string): this {
    const b = Buffer.from(s, 'utf8');
    this.#varint(BigInt(b.length));
    for (const x of b) this.bytes.push(x);
    return this;
  }
  /** A struct field (id > 0) or a list element (id 0) with its fields written by `write`. */
  struct(id: number, write: () => void): this {
    if (id > 0) this.#field(id, 12);
    this.#last.push(0);
    write();
    this.bytes.push(0);
    this.#last.pop();
    return this;
  }
  stop(): Buffer {
    this.bytes.push(0);
    return Buffer.from(this.bytes);
  }
}

const DOUBLE = 5;
const PLAIN = 0;
const RLE = 3;
const T_I32 = 5;
const T_BINARY = 8;
const T_STRUCT = 12;

function pageHeader(bytes: number, values: number): Buffer {
  const c = new Compact();
  c.i32(1, 0) // DATA_PAGE
    .i32(2, bytes)
    .i32(3, bytes)
    .struct(5, () => {
      c.i32(1, values).i32(2, PLAIN).i32(3, RLE).i32(4, RLE);
    });
  return c.stop();
}

export function writeDoubleParquet(
  path: string,
  columns: readonly { name: string; values: Float64Array }[],
  rowGroupSize = 131_072,
): void {
  const rows = columns[0]?.values.length ?? 0;
  const fd = openSync(path, 'w');
  try {
    let offset = 0;
    const write = (b: Uint8Array): void => {
      let done = 0;
      while (done < b.byteLength) done += writeSync(fd, b, done);
      offset += b.byteLength;
    };
    write(Buffer.from('PAR1'));
    const groups: { rows: number; chunks: { start: number; size: number }[] }[] = [];
    for (let r0 = 0; r0 < rows || (rows === 0 && groups.length === 0); r0 += rowGroupSize) {
      const n = Math.min(rowGroupSize, rows - r0);
      const chunks = columns.map((c) => {
        const start = offset;
        const data = new Uint8Array(c.values.buffer, c.values.byteOffset + r0 * 8, n * 8);
        write(pageHeader(data.byteLength, n));
        write(data);
        return { start, size: offset - start };
      });
      groups.push({ rows: n, chunks });
      if (rows === 0) break;
    }
    const meta = new Compact();
    meta
      .i32(1, 1)
      .list(2, T_STRUCT, columns.length + 1, () => {
        meta.struct(0, () => {
          meta.string(4, 'schema').i32(5, columns.length);
        });
        for (const c of columns)
          meta.struct(0, () => {
            meta.i32(1, DOUBLE).i32(3, 0).string(4, c.name); // REQUIRED
          });
      })
      .i64(3, rows)
      .list(4, T_STRUCT, groups.length, () => {
        for (const g of groups)
          meta.struct(0, () => {
            meta
              .list(1, T_STRUCT, g.chunks.length, () => {
                g.chunks.forEach((ch, i) =>
                  meta.struct(0, () => {
                    meta.i64(2, ch.start).struct(3, () => {
                      meta
                        .i32(1, DOUBLE)
                        .list(2, T_I32, 1, () => meta.rawI32(PLAIN))
                        .list(3, T_BINARY, 1, () => meta.rawString(columns[i]!.name))
                        .i32(4, 0) // UNCOMPRESSED
                        .i64(5, g.rows)
                        .i64(6, ch.size)
                        .i64(7, ch.size)
                        .i64(9, ch.start);
                    });
                  }),
                );
              })
              .i64(
                2,
                g.chunks.reduce((s, ch) => s + ch.size, 0),
              )
              .i64(3, g.rows);
          });
      });
    const footer = meta.stop();
    write(footer);
    const len = Buffer.alloc(4);
    len.writeInt32LE(footer.byteLength);
    write(len);
    write(Buffer.from('PAR1'));
  } finally {
    closeSync(fd);
  }
}

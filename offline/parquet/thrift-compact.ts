/**
 * Thrift's compact protocol, generically: a struct decodes into its fields in order (id, wire
 * type, value) and encodes back byte for byte, so a Parquet footer written by another library
 * can be read, extended with new columns and written again without knowing every field.
 * Integers are `bigint` for i64 and `number` otherwise; binaries are `Uint8Array`.
 *
 * @example
 * const [meta] = decodeStruct(footerBytes, 0);
 * field(meta, 3)!.value; // FileMetaData.num_rows (bigint)
 * const bytes = encodeStruct(meta);
 */

/** Wire types of the compact protocol. */
export const T = {
  TRUE: 1,
  FALSE: 2,
  BYTE: 3,
  I16: 4,
  I32: 5,
  I64: 6,
  DOUBLE: 7,
  BINARY: 8,
  LIST: 9,
  SET: 10,
  MAP: 11,
  STRUCT: 12,
} as const;

export type TValue = boolean | number | bigint | Uint8Array | TList | TMap | TStruct;

export interface TList {
  elemType: number;
  items: TValue[];
}

export interface TMap {
  keyType: number;
  valueType: number;
  entries: [TValue, TValue][];
}

export interface TField {
  id: number;
  type: number;
  value: TValue;
}

export interface TStruct {
  fields: TField[];
}

/** The field with id `id`, if present. */
export const field = (s: TStruct, id: number): TField | undefined =>
  s.fields.find((f) => f.id === id);

/** A field's value, asserting its presence. */
export function req<V extends TValue>(s: TStruct, id: number): V {
  const f = field(s, id);
  if (!f) throw new Error(`thrift: missing field ${id}`);
  return f.value as V;
}

class Reader {
  constructor(
    readonly b: Uint8Array,
    public pos: number,
  ) {}
  byte(): number {
    if (this.pos >= this.b.length) throw new Error('thrift: unexpected end of data');
    return this.b[this.pos++]!;
  }
  varint(): bigint {
    let shift = 0n;
    let v = 0n;
    for (;;) {
      const x = this.byte();
      v |= BigInt(x & 0x7f) << shift;
      if ((x & 0x80) === 0) return v;
      shift += 7n;
    }
  }
  zigzag(): bigint {
    const v = this.varint();
    return (v >> 1n) ^ -(v & 1n);
  }
}

function readValue(r: Reader, type: number): TValue {
  switch (type) {
    case T.TRUE:
      return true;
    case T.FALSE:
      return false;
    case T.BYTE:
      return r.byte();
    case T.I16:
    case T.I32:
      return Number(r.zigzag());
    case T.I64:
      return r.zigzag();
    case T.DOUBLE: {
      const v = new DataView(r.b.buffer, r.b.byteOffset + r.pos, 8).getFloat64(0, true);
      r.pos += 8;
      return v;
    }
    case T.BINARY: {
      const n = Number(r.varint());
      const v = r.b.slice(r.pos, r.pos + n);
      r.pos += n;
      return v;
    }
    case T.LIST:
    case T.SET: {
      const h = r.byte();
      const elemType = h & 0x0f;
      const n = h >> 4 === 15 ? Number(r.varint()) : h >> 4;
      const items: TValue[] = [];
      for (let i = 0; i < n; i++)
        items.push(
          elemType === T.TRUE || elemType === T.FALSE
            ? r.byte() === T.TRUE
            : readValue(r, elemType),
        );
      return { elemType, items };
    }
    case T.MAP: {
      const n = Number(r.varint());
      if (n === 0) return { keyType: 0, valueType: 0, entries: [] };
      const kv = r.byte();
      const keyType = kv >> 4;
      const valueType = kv & 0x0f;
      const entries: [TValue, TValue][] = [];
      for (let i = 0; i < n; i++) entries.push([readValue(r, keyType), readValue(r, valueType)]);
      return { keyType, valueType, entries };
    }
    case T.STRUCT:
      return readStruct(r);
    default:
      throw new Error(`thrift: unknown compact type ${type}`);
  }
}

function readStruct(r: Reader): TStruct {
  const fields: TField[] = [];
  let last = 0;
  for (;;) {
    const h = r.byte();
    if (h === 0) return { fields };
    const type = h & 0x0f;
    const delta = h >> 4;
    const id = delta === 0 ? Number(r.zigzag()) : last + delta;
    last = id;
    fields.push({ id, type, value: readValue(r, type) });
  }
}

/** Decodes the struct starting at `pos`; returns it and the position after it. */
export function decodeStruct(bytes: Uint8Array, pos = 0): [TStruct, number] {
  const r = new Reader(bytes, pos);
  const s = readStruct(r);
  return [s, r.pos];
}

class Writer {
  readonly out: number[] = [];
  varint(n: bigint): void {
    let v = n;
    while (v >= 0x80n) {
      this.out.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.out.push(Number(v));
  }
  zigzag(n: bigint): void {
    this.varint(n >= 0n ? n << 1n : (-n << 1n) - 1n);
  }
  bytes(b: Uint8Array): void {
    for (const x of b) this.out.push(x);
  }
}

function writeValue(w: Writer, type: number, v: TValue): void {
  switch (type) {
    case T.TRUE:
    case T.FALSE:
      return;
    case T.BYTE:
      w.out.push(v as number);
      return;
    case T.I16:
    case T.I32:
      w.zigzag(BigInt(v as number));
      return;
    case T.I64:
      w.zigzag(typeof v === 'bigint' ? v : BigInt(v as number));
      return;
    case T.DOUBLE: {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setFloat64(0, v as number, true);
      w.bytes(b);
      return;
    }
    case T.BINARY: {
      const b = v as Uint8Array;
      w.varint(BigInt(b.length));
      w.bytes(b);
      return;
    }
    case T.LIST:
    case T.SET: {
      const l = v as TList;
      const n = l.items.length;
      if (n < 15) w.out.push((n << 4) | l.elemType);
      else {
        w.out.push(0xf0 | l.elemType);
        w.varint(BigInt(n));
      }
      for (const item of l.items) {
        if (l.elemType === T.TRUE || l.elemType === T.FALSE) w.out.push(item ? T.TRUE : T.FALSE);
        else writeValue(w, l.elemType, item);
      }
      return;
    }
    case T.MAP: {
      const m = v as TMap;
      w.varint(BigInt(m.entries.length));
      if (m.entries.length === 0) return;
      w.out.push((m.keyType << 4) | m.valueType);
      for (const [k, x] of m.entries) {
        writeValue(w, m.keyType, k);
        writeValue(w, m.valueType, x);
      }
      return;
    }
    case T.STRUCT:
      writeStruct(w, v as TStruct);
      return;
    default:
      throw new Error(`thrift: unknown compact type ${type}`);
  }
}

function writeStruct(w: Writer, s: TStruct): void {
  let last = 0;
  for (const f of s.fields) {
    const type = f.type === T.TRUE || f.type === T.FALSE ? (f.value ? T.TRUE : T.FALSE) : f.type;
    const delta = f.id - last;
    if (delta > 0 && delta <= 15) w.out.push((delta << 4) | type);
    else {
      w.out.push(type);
      w.zigzag(BigInt(f.id));
    }
    last = f.id;
    writeValue(w, type, f.value);
  }
  w.out.push(0);
}

export function encodeStruct(s: TStruct): Uint8Array {
  const w = new Writer();
  writeStruct(w, s);
  return Uint8Array.from(w.out);
}

/** Builders for new structs: `struct([1, T.I32, 5], [4, T.BINARY, utf8('x')])`. */
export const struct = (...fields: [number, number, TValue][]): TStruct => ({
  fields: fields.map(([id, type, value]) => ({ id, type, value })),
});
export const list = (elemType: number, items: TValue[]): TList => ({ elemType, items });
export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

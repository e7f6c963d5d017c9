/** Writes a stream of column chunks as an Arrow IPC file (apache-arrow), types from the export columns. */
import { createWriteStream } from 'node:fs';
import {
  Bool,
  Field,
  Float64,
  Int64,
  List,
  RecordBatch,
  RecordBatchFileWriter,
  Schema,
  Table,
  Utf8,
  vectorFromArray,
  type DataType,
} from 'apache-arrow';

/** A column's Arrow type: a scalar, or a `List` of one (`string_list` → `List<Utf8>`). */
export type ArrowKind =
  'int64' | 'float64' | 'bool' | 'string' | 'string_list' | 'int64_list' | 'float64_list';

type ScalarKind = 'int64' | 'float64' | 'bool' | 'string';

const scalarType = (k: ScalarKind): DataType =>
  k === 'int64'
    ? new Int64()
    : k === 'float64'
      ? new Float64()
      : k === 'bool'
        ? new Bool()
        : new Utf8();

const elementOf = (k: ArrowKind): ScalarKind | null =>
  k.endsWith('_list') ? (k.slice(0, -'_list'.length) as ScalarKind) : null;

const arrowType = (k: ArrowKind): DataType => {
  const e = elementOf(k);
  return e === null
    ? scalarType(k as ScalarKind)
    : new List(new Field('item', scalarType(e), false));
};

function convert(k: ArrowKind, values: unknown[]): unknown[] {
  const e = elementOf(k);
  if (e !== null)
    return values.map((v) => (v === null || v === undefined ? null : convert(e, v as unknown[])));
  switch (k) {
    case 'int64':
      return values.map((v) =>
        v === null || v === undefined ? null : BigInt(Math.trunc(Number(v))),
      );
    case 'float64':
      return values.map((v) => (v === null || v === undefined ? null : Number(v)));
    case 'bool':
      return values.map((v) => (v === null || v === undefined ? null : Boolean(v)));
    default:
      return values.map((v) => (v === null || v === undefined ? null : String(v)));
  }
}

export async function writeArrow(
  path: string,
  names: readonly string[],
  kinds: readonly ArrowKind[],
  chunks: AsyncIterable<unknown[][]>,
): Promise<void> {
  // One schema for the whole file, every column nullable: a table built from a chunk's vectors
  // marks a column nullable only when that chunk has a null, and the writer cannot change its
  // schema midway (a later chunk with the first null failed the export: "AsyncQueue is closed").
  const schema = new Schema(
    names.map((n, i) => new Field(n, arrowType(kinds[i] as ArrowKind), true)),
  );
  const writer = new RecordBatchFileWriter();
  const out = createWriteStream(path);
  let failed: Error | null = null;
  const done = new Promise<void>((resolve, reject) => {
    out.on('finish', resolve);
    out.on('error', (e) => {
      failed = e;
      reject(e);
    });
  });
  // Awaited once every chunk is written; a write error meanwhile (a full disk) stops the loop
  // below instead of going unhandled.
  done.catch(() => undefined);
  writer.pipe(out);
  const write = (columns: readonly unknown[][]): void => {
    const table = new Table(
      Object.fromEntries(
        names.map((n, i) => [
          n,
          vectorFromArray(
            convert(kinds[i] as ArrowKind, columns[i] as unknown[]),
            arrowType(kinds[i] as ArrowKind),
          ),
        ]),
      ),
    );
    for (const batch of table.batches) writer.write(new RecordBatch(schema, batch.data));
  };
  let wrote = false;
  for await (const columns of chunks) {
    if (failed) throw failed;
    write(columns);
    wrote = true;
  }
  if (!wrote) write(names.map(() => []));
  writer.finish();
  await done;
}

/** Writes a stream of column chunks as an Arrow IPC file (apache-arrow), types from the export columns. */
import { createWriteStream } from 'node:fs';
import {
  Bool,
  Float64,
  Int64,
  RecordBatchFileWriter,
  Table,
  Utf8,
  vectorFromArray,
  type DataType,
} from 'apache-arrow';

export type ArrowKind = 'int64' | 'float64' | 'bool' | 'string';

const arrowType = (k: ArrowKind): DataType =>
  k === 'int64'
    ? new Int64()
    : k === 'float64'
      ? new Float64()
      : k === 'bool'
        ? new Bool()
        : new Utf8();

function convert(k: ArrowKind, values: unknown[]): unknown[] {
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
  const writer = new RecordBatchFileWriter();
  const out = createWriteStream(path);
  const done = new Promise<void>((resolve, reject) => {
    out.on('finish', resolve);
    out.on('error', reject);
  });
  writer.pipe(out);
  let wrote = false;
  for await (const columns of chunks) {
    const vectors = Object.fromEntries(
      names.map((n, i) => [
        n,
        vectorFromArray(
          convert(kinds[i] as ArrowKind, columns[i] as unknown[]),
          arrowType(kinds[i] as ArrowKind),
        ),
      ]),
    );
    writer.write(new Table(vectors));
    wrote = true;
  }
  if (!wrote) {
    writer.write(
      new Table(
        Object.fromEntries(
          names.map((n, i) => [n, vectorFromArray([], arrowType(kinds[i] as ArrowKind))]),
        ),
      ),
    );
  }
  writer.finish();
  await done;
}

/**
 * Turns served feature values into a model's float32 input matrix, per the model's declared
 * input mapping: numbers as float32, booleans as 0/1, strings one-hot or as a vocabulary index,
 * nulls as the declared fill value plus an optional missing-indicator column. The same
 * encoding runs at serving time and (through `encodedColumnNames`) documents the training
 * matrix, so training and serving agree column for column.
 */
import type { ModelInputSpec, ModelSpec } from '../definitions/spec.ts';

/** Number of matrix columns one input produces. */
export function inputColumns(input: ModelInputSpec): number {
  const base = input.transform === 'one_hot' ? (input.vocabulary?.length ?? 0) : 1;
  return base + (input.missingIndicator ? 1 : 0);
}

/** Width of the model's input row. */
export function inputWidth(spec: ModelSpec): number {
  return spec.inputs.reduce((n, i) => n + inputColumns(i), 0);
}

/** Column names of the encoded matrix, in order (`price`, `category=books`, `price__missing`). */
export function encodedColumnNames(spec: ModelSpec): string[] {
  const out: string[] = [];
  for (const i of spec.inputs) {
    const name = i.feature.split(':')[1] as string;
    if (i.transform === 'one_hot') for (const v of i.vocabulary ?? []) out.push(`${name}=${v}`);
    else out.push(name);
    if (i.missingIndicator) out.push(`${name}__missing`);
  }
  return out;
}

export interface EncodedInputs {
  data: Float32Array;
  rows: number;
  width: number;
  /** Per row: true when any mapped feature was null (scored with fill values). */
  missing: boolean[];
}

/**
 * Encodes `rows` rows. `columns[k]` holds the values of `spec.inputs[k]` (one per row).
 */
export function encodeInputs(
  spec: ModelSpec,
  columns: readonly (readonly unknown[])[],
  rows: number,
): EncodedInputs {
  const width = inputWidth(spec);
  const data = new Float32Array(rows * width);
  const missing = new Array<boolean>(rows).fill(false);
  let offset = 0;
  spec.inputs.forEach((input, k) => {
    const col = columns[k] ?? [];
    const vocab = input.vocabulary ?? [];
    const index = new Map(vocab.map((v, i) => [v, i]));
    const span = inputColumns(input);
    for (let r = 0; r < rows; r++) {
      const v = col[r] ?? null;
      const at = r * width + offset;
      const isNull = v === null;
      if (isNull) missing[r] = true;
      switch (input.transform) {
        case 'float':
          data[at] = isNull ? input.fill : Number(v);
          break;
        case 'bool':
          data[at] = isNull ? input.fill : v === true || v === 1 ? 1 : 0;
          break;
        case 'index': {
          const i = isNull ? undefined : index.get(String(v));
          data[at] = i === undefined ? input.fill : i;
          break;
        }
        case 'one_hot': {
          const i = isNull ? undefined : index.get(String(v));
          if (i !== undefined) data[at + i] = 1;
          break;
        }
      }
      if (input.missingIndicator) data[at + span - 1] = isNull ? 1 : 0;
    }
    offset += span;
  });
  return { data, rows, width, missing };
}

/**
 * ONNX models, scored in the serving process with onnxruntime-node: load a session, check it
 * against the model's declared input mapping, and score encoded feature rows in one batched run.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import ort from 'onnxruntime-node';
import { LarderError } from '../core/errors.ts';
import type { ModelSpec } from '../definitions/spec.ts';
import { encodeInputs, inputWidth, type EncodedInputs } from './input-encoding.ts';

export interface ModelRuntime {
  readonly spec: ModelSpec;
  readonly width: number;
  /** The output read as the score (a probability of the positive class for classifiers). */
  readonly output: string;
  /** Scores encoded rows; one float per row. */
  score(inputs: EncodedInputs): Promise<Float32Array>;
  /** Encodes feature columns (one per declared input) and scores them. */
  scoreColumns(
    columns: readonly (readonly unknown[])[],
    rows: number,
  ): Promise<{ scores: Float32Array; missing: boolean[] }>;
  close(): Promise<void>;
}

/** Why a session does not fit a model's mapping (null when it fits). */
export function checkSession(
  spec: ModelSpec,
  session: Pick<ort.InferenceSession, 'inputNames' | 'outputNames' | 'inputMetadata'>,
): string | null {
  if (!session.inputNames.includes(spec.inputName)) {
    return `input "${spec.inputName}" is not an input of the ONNX graph (its inputs: ${session.inputNames.join(', ')})`;
  }
  const meta = session.inputMetadata.find((m) => m.name === spec.inputName);
  if (meta && meta.isTensor) {
    if (meta.type !== 'float32')
      return `input "${spec.inputName}" is ${meta.type}, but Larder feeds float32`;
    if (meta.shape.length !== 2)
      return `input "${spec.inputName}" has rank ${meta.shape.length}; expected [batch, features]`;
    const cols = meta.shape[1];
    const width = inputWidth(spec);
    if (typeof cols === 'number' && cols !== width) {
      return `input "${spec.inputName}" takes ${cols} columns but the mapping produces ${width} (${spec.inputs.length} inputs; one-hot and missing-indicator columns included)`;
    }
  }
  if (spec.outputName !== null && !session.outputNames.includes(spec.outputName)) {
    return `output "${spec.outputName}" is not an output of the ONNX graph (its outputs: ${session.outputNames.join(', ')})`;
  }
  return null;
}

function pickOutput(spec: ModelSpec, outputs: readonly string[]): string {
  if (spec.outputName) return spec.outputName;
  return outputs.includes('probabilities') ? 'probabilities' : (outputs[0] as string);
}

/** Loads and checks a model; throws LARDER_DEFINITION_INVALID saying which input and why. */
export async function loadModel(spec: ModelSpec, repoRoot: string): Promise<ModelRuntime> {
  const path = resolve(repoRoot, spec.path);
  if (!existsSync(path)) {
    throw new LarderError(
      'LARDER_DEFINITION_INVALID',
      `model "${spec.name}": ONNX file ${path} does not exist`,
      { hint: 'the path is relative to the feature repository' },
    );
  }
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(path, {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
    });
  } catch (e) {
    throw new LarderError(
      'LARDER_DEFINITION_INVALID',
      `model "${spec.name}": ${path} is not a loadable ONNX model: ${(e as Error).message}`,
      { cause: e },
    );
  }
  const problem = checkSession(spec, session);
  if (problem) {
    await session.release();
    throw new LarderError('LARDER_DEFINITION_INVALID', `model "${spec.name}": ${problem}`);
  }
  const width = inputWidth(spec);
  const output = pickOutput(spec, session.outputNames);
  const score = async (inputs: EncodedInputs): Promise<Float32Array> => {
    if (inputs.rows === 0) return new Float32Array(0);
    const tensor = new ort.Tensor('float32', inputs.data, [inputs.rows, width]);
    const result = await session.run({ [spec.inputName]: tensor }, [output]);
    const out = result[output] as ort.Tensor;
    const data = out.data as Float32Array | Float64Array;
    const perRow = out.dims.length === 2 ? Number(out.dims[1]) : 1;
    const scores = new Float32Array(inputs.rows);
    // Classifier probabilities: the positive class is the last column.
    for (let r = 0; r < inputs.rows; r++) scores[r] = Number(data[r * perRow + perRow - 1]);
    return scores;
  };
  return {
    spec,
    width,
    output,
    score,
    async scoreColumns(columns, rows) {
      const enc = encodeInputs(spec, columns, rows);
      return { scores: await score(enc), missing: enc.missing };
    },
    close: () => session.release(),
  };
}

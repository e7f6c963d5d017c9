/**
 * Runs on-demand transforms over a batch of rows, column-wise: the same transform functions the
 * online path calls, fed whole columns (never one JSON row at a time).
 */
import { LarderError } from '../../core/errors.ts';
import { evaluateOnDemand } from '../../definitions/on-demand-eval.ts';
import type { Repository } from '../../definitions/repository.ts';

/** Column name of a feature's value inside a batch. */
export type ColumnOf = (view: string, feature: string) => string;

/**
 * Evaluates every on-demand view in `views` over `columns` (inputs looked up with `columnOf`;
 * request fields are columns of the same name) and returns their output columns, keyed by
 * `columnOf(odfv, feature)`, checked and normalized by {@link evaluateOnDemand} exactly as the
 * online path does (undefined and non-finite numbers are null; a value of the wrong type is an
 * error).
 */
export function applyOnDemand(
  repo: Repository,
  views: readonly string[],
  columns: Record<string, unknown[]>,
  size: number,
  timestamps: readonly number[],
  columnOf: ColumnOf,
): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const name of views) {
    const od = repo.onDemandViews.get(name);
    if (!od) throw new LarderError('LARDER_NOT_FOUND', `unknown on-demand feature view "${name}"`);
    const inputs: Record<string, unknown[]> = {};
    for (const [k, input] of Object.entries(od.spec.inputs)) {
      const col = input.from === 'feature' ? columnOf(input.view, input.feature) : input.field;
      const values = columns[col];
      if (!values) {
        throw new LarderError(
          'LARDER_BAD_REQUEST',
          `on-demand view "${name}" needs ${input.from === 'request' ? `the request field "${input.field}" as a column of the entity rows` : `${input.view}:${input.feature}`}`,
          { detail: { reason: 'missing_field' } },
        );
      }
      inputs[k] = values;
    }
    const result = evaluateOnDemand(od, inputs, { size, timestamps });
    for (const f of od.spec.features) out[columnOf(name, f.name)] = result[f.name]!;
  }
  return out;
}

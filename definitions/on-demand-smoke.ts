/**
 * The smoke test `plan` and `apply` run on every on-demand transform before accepting it: the
 * transform is evaluated (through the same checked evaluation as online reads and exports) on
 * sample rows built from its input types — all nulls, all zeros and empty strings, typical
 * values, and each input in turn set to each sample value — first as one batch, then row by
 * row to name the input that broke it.
 */
import { OnDemandError, evaluateOnDemand } from './on-demand-eval.ts';
import type { OnDemandFeatureViewDef } from './dsl/on-demand.ts';
import { DefinitionError, type Problem } from '../core/errors.ts';
import type { Repository } from './repository.ts';
import type { ValueType } from '../core/types.ts';

/** The evaluation time of the sample rows: fixed, so the smoke test does not depend on the clock. */
export const SMOKE_T = Date.UTC(2026, 0, 1);

/** Sample values per input type: [null, the zero value, ...typical values]. */
const SAMPLES: Record<ValueType, readonly unknown[]> = {
  int64: [null, 0, 1, -1, 42, SMOKE_T - 3_600_000],
  float64: [null, 0, 1, -1, 0.5, 19.99],
  string: [null, '', 'a', 'electronics'],
  bool: [null, false, true],
  string_list: [null, [], ['a'], ['electronics', 'books']],
  int64_list: [null, [], [0], [1, 42]],
  float64_list: [null, [], [0], [0.5, 19.99]],
};

/** The sample rows of a transform's inputs (deduplicated, in a fixed order). */
export function smokeRows(od: OnDemandFeatureViewDef): Record<string, unknown>[] {
  const inputs = Object.entries(od.spec.inputs).map(([k, i]) => [k, SAMPLES[i.type]] as const);
  const row = (pick: (k: string, samples: readonly unknown[]) => unknown) =>
    Object.fromEntries(inputs.map(([k, s]) => [k, pick(k, s)]));
  const rows = [row(() => null), row((_, s) => s[1]), row((_, s) => s[s.length - 1])];
  for (const [k, samples] of inputs)
    for (const v of samples) rows.push(row((j, s) => (j === k ? v : s[s.length - 1])));
  const seen = new Set<string>();
  return rows.filter((r) => {
    const key = JSON.stringify(r);
    return seen.has(key) ? false : (seen.add(key), true);
  });
}

const formatRow = (r: Record<string, unknown>): string =>
  `{ ${Object.entries(r)
    .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
    .join(', ')} }`;

function run(od: OnDemandFeatureViewDef, rows: Record<string, unknown>[]): OnDemandError | null {
  const columns = Object.fromEntries(
    Object.keys(od.spec.inputs).map((k) => [k, rows.map((r) => r[k])]),
  );
  try {
    evaluateOnDemand(od, columns, {
      size: rows.length,
      timestamps: rows.map(() => SMOKE_T),
    });
    return null;
  } catch (e) {
    if (e instanceof OnDemandError) return e;
    throw e;
  }
}

/** The problem of one transform on its sample rows, or null when it passes. */
export function smokeTestTransform(od: OnDemandFeatureViewDef): Problem | null {
  const rows = smokeRows(od);
  const batch = run(od, rows);
  if (!batch) return null;
  let failure = batch;
  let input = `on a batch of ${rows.length} sample rows`;
  for (const r of rows) {
    const e = run(od, [r]);
    if (e) {
      failure = e;
      input = `on the sample input ${formatRow(r)}`;
      break;
    }
  }
  return {
    at: od.definedAt,
    object: `on-demand feature view "${od.spec.name}"`,
    field: failure.detail.feature === null ? 'transform' : `features.${failure.detail.feature}`,
    message: `${failure.detail.problem.replace(/ \(row \d+\)$/, '')} ${input}`,
    hint: `${failure.hint ?? ''}; inputs can be null (a missing feature or request field)`,
  };
}

/** Runs every on-demand transform of `repo` on its sample rows; throws every failure at once. */
export function smokeTestOnDemand(repo: Repository): void {
  const problems: Problem[] = [];
  for (const od of repo.onDemandViews.values()) {
    const p = smokeTestTransform(od);
    if (p) problems.push(p);
  }
  if (problems.length > 0) throw new DefinitionError(problems);
}

/**
 * The one evaluation of an on-demand transform, shared by online reads, exports (both DuckDB
 * engines) and the smoke test of `plan`/`apply`: it calls the transform and checks what it
 * returns, so a value is accepted or refused identically on every path (no train/serve skew).
 *
 * Rule: each output is an array of exactly `size` values; `undefined`, `null`, `NaN` and
 * ±Infinity are null; every other value must already have the feature's type (int64: a safe
 * integer, float64: a number, string: a string, bool: a boolean). Nothing is converted: a
 * `"128.35"` for a float64 feature is an error, not 128.35 in one place and a string in another.
 */
import { sourcePosition } from './dsl/call-site.ts';
import type { OdfvContext, OnDemandFeatureViewDef } from './dsl/on-demand.ts';
import { LarderError, type OnDemandFailure } from '../core/errors.ts';
import { listElement, type ValueType } from '../core/types.ts';

/** Whether `v` (not null) is a value of `type`. */
export function isValueOf(v: unknown, type: ValueType): boolean {
  switch (type) {
    case 'int64':
      return Number.isSafeInteger(v);
    case 'float64':
      return typeof v === 'number';
    case 'string':
      return typeof v === 'string';
    case 'bool':
      return typeof v === 'boolean';
    case 'string_list':
    case 'int64_list':
    case 'float64_list':
      return Array.isArray(v) && v.every((x) => x !== null && isValueOf(x, listElement(type)));
  }
}

const isNullish = (v: unknown): boolean =>
  v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v));

/**
 * `values` with undefined and non-finite numbers made null (a copy, when there are any), and
 * the index of the first value neither null nor of `type` (-1: none). One loop per scalar type,
 * so the type is not tested again for every value.
 */
function checkValues(values: unknown[], type: ValueType): { checked: unknown[]; bad: number } {
  let checked = values;
  const n = values.length;
  if (type === 'int64' || type === 'float64') {
    const int = type === 'int64';
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (typeof v === 'number') {
        if (v - v !== 0) {
          if (checked === values) checked = values.slice();
          checked[i] = null;
        } else if (int && !Number.isSafeInteger(v)) return { checked, bad: i };
      } else if (v !== null) {
        if (v !== undefined) return { checked, bad: i };
        if (checked === values) checked = values.slice();
        checked[i] = null;
      }
    }
    return { checked, bad: -1 };
  }
  if (type === 'string' || type === 'bool') {
    const kind = type === 'string' ? 'string' : 'boolean';
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (typeof v === kind || v === null) continue;
      if (!isNullish(v)) return { checked, bad: i };
      if (checked === values) checked = values.slice();
      checked[i] = null;
    }
    return { checked, bad: -1 };
  }
  for (let i = 0; i < n; i++) {
    const v: unknown = values[i];
    if (isNullish(v)) {
      if (v !== null) {
        if (checked === values) checked = values.slice();
        checked[i] = null;
      }
    } else if (!isValueOf(v, type)) return { checked, bad: i };
  }
  return { checked, bad: -1 };
}

const describeValue = (v: unknown): string => {
  let text: string;
  try {
    text = JSON.stringify(v) ?? String(v);
  } catch {
    text = String(v);
  }
  if (text.length > 60) text = `${text.slice(0, 57)}...`;
  return `${text} (${Array.isArray(v) ? 'an array' : typeof v})`;
};

/**
 * The `file:line` inside the transform's own file (the file of its `definedAt`) where `e` was
 * thrown, or null.
 */
function thrownAt(e: unknown, definedAt: string): string | null {
  const stack = (e as { stack?: unknown } | null)?.stack;
  if (typeof stack !== 'string') return null;
  const file = definedAt.replace(/:\d+$/, '');
  for (const m of stack.matchAll(/((?:file:\/\/)?\/[^():\s]+):(\d+):(\d+)/g)) {
    const at = sourcePosition(m[1]!, Number(m[2]), Number(m[3]));
    if (at.startsWith(`${file}:`)) return at;
  }
  return null;
}

/** A failed evaluation: its detail says which view, which feature (null when the transform threw), and why. */
export class OnDemandError extends LarderError {
  declare readonly detail: OnDemandFailure;
  constructor(
    view: string,
    feature: string | null,
    problem: string,
    opts: { hint: string; cause?: unknown },
  ) {
    super('LARDER_ON_DEMAND_FAILED', `on-demand feature view "${view}" ${problem}`, {
      ...opts,
      detail: { view, feature, problem },
    });
  }
}

const failed = (
  od: OnDemandFeatureViewDef,
  feature: string | null,
  detail: string,
  hint: string,
  cause?: unknown,
): OnDemandError =>
  new OnDemandError(od.spec.name, feature, detail, {
    hint,
    ...(cause === undefined ? {} : { cause }),
  });

/**
 * Runs `od`'s transform over one batch and returns its checked outputs by feature name (values
 * normalized: null for undefined and non-finite numbers). Throws LARDER_ON_DEMAND_FAILED (HTTP
 * 500) naming the view, and the feature and row when an output is at fault.
 */
export function evaluateOnDemand(
  od: OnDemandFeatureViewDef,
  inputs: Record<string, unknown[]>,
  ctx: OdfvContext,
): Record<string, unknown[]> {
  let result: unknown;
  try {
    result = od.transform(inputs, ctx);
  } catch (e) {
    const at = thrownAt(e, od.definedAt);
    throw failed(
      od,
      null,
      `threw ${e instanceof Error ? `${e.name}: ${e.message}` : describeValue(e)}${at ? ` at ${at}` : ''}`,
      `fix the transform defined at ${od.definedAt} (larder plan runs it on sample inputs, nulls included)`,
      e,
    );
  }
  if (typeof result !== 'object' || result === null) {
    throw failed(
      od,
      null,
      `returned ${describeValue(result)} instead of an object of output columns`,
      `return { ${od.spec.features.map((f) => `${f.name}: [...]`).join(', ')} } (defined at ${od.definedAt})`,
    );
  }
  const out: Record<string, unknown[]> = {};
  for (const f of od.spec.features) {
    const values = (result as Record<string, unknown>)[f.name];
    if (!Array.isArray(values) || values.length !== ctx.size) {
      throw failed(
        od,
        f.name,
        `returned ${Array.isArray(values) ? `${values.length} values` : 'no column'} for feature "${f.name}", expected ${ctx.size}`,
        `return one value per input row for every declared feature (defined at ${od.definedAt})`,
      );
    }
    const { checked, bad } = checkValues(values, f.type);
    if (bad >= 0)
      throw failed(
        od,
        f.name,
        `returned ${describeValue(values[bad])} for ${f.type} feature "${f.name}" (row ${bad})`,
        `return a ${f.type === 'int64' ? 'safe integer' : f.type === 'float64' ? 'number' : f.type} or null; values are never converted, online or offline (defined at ${od.definedAt})`,
      );
    out[f.name] = checked;
  }
  return out;
}

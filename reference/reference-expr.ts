/**
 * The reference evaluator's own reading of record expressions, written from the documented
 * semantics (docs/definitions.md "Record expressions", definitions/expr/expr.ts) and deliberately
 * sharing no code with `definitions/expr/expr-eval.ts`, which the stream and push paths run: tests
 * that compare those paths with the reference can then catch an expression bug. Slow and
 * plain on purpose; it interprets the AST for every record.
 *
 * Semantics (SQL's):
 * - a path reads own fields of plain objects step by step (a record field or a map key);
 *   anything missing, null, or not a string/number/boolean at the end is null;
 * - `a[].b` (aggregation inputs and weights only) gives one value per element of the array
 *   `a` (none when `a` is not an array);
 * - comparisons with a null side are null; strings compare by code point, numbers by value,
 *   `false < true`; `in` is null for a null input;
 * - `and`/`or`/`not` are three-valued (false wins `and`, true wins `or`, else null if any null);
 * - `toNumber`: a finite number as is; a string that is a plain decimal number (optional
 *   sign, digits with an optional point, optional exponent; surrounding spaces, tabs, CR, LF
 *   or FF allowed) as its float64 value when finite; anything else null;
 * - `coalesce` is the first non-null argument.
 */
import type { ExprNode } from '../definitions/expr/expr.ts';
import type { Scalar } from '../core/types.ts';

export type RefValue = Scalar | null;
type Rec = Record<string, unknown>;

function isPlainObject(v: unknown): v is Rec {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Walks `steps` from `v` through own fields only; undefined when a step is missing. */
function walk(v: unknown, steps: readonly string[]): unknown {
  let cur = v;
  for (const step of steps) {
    if (!isPlainObject(cur) || !Object.prototype.hasOwnProperty.call(cur, step)) return undefined;
    cur = cur[step];
  }
  return cur;
}

function asScalar(v: unknown): RefValue {
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') return v;
  return null;
}

/** Code-point order (not UTF-16 code units): -1, 0 or 1. */
function compareStrings(a: string, b: string): number {
  const x = Array.from(a, (c) => c.codePointAt(0)!);
  const y = Array.from(b, (c) => c.codePointAt(0)!);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i]! !== y[i]!) return x[i]! < y[i]! ? -1 : 1;
  }
  return x.length === y.length ? 0 : x.length < y.length ? -1 : 1;
}

/** -1, 0 or 1 for two non-null values of one type (numbers of any kind compare by value). */
function order(a: Scalar, b: Scalar): number {
  if (typeof a === 'string' && typeof b === 'string') return compareStrings(a, b);
  if (typeof a === 'number' && typeof b === 'number') return a === b ? 0 : a < b ? -1 : 1;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  throw new Error(`reference: cannot compare ${typeof a} with ${typeof b}`);
}

const PLAIN_DECIMAL =
  /^[ \t\n\r\f]*([+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?)[ \t\n\r\f]*$/;

function toNumber(v: RefValue): RefValue {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v !== 'string') return null;
  const m = PLAIN_DECIMAL.exec(v);
  if (!m) return null;
  const n = parseFloat(m[1]!);
  return Number.isFinite(n) ? n : null;
}

/** The value of a scalar expression for one record. */
export function refEval(node: ExprNode, record: Rec): RefValue {
  switch (node.op) {
    case 'col':
      if (node.path.includes('[].'))
        throw new Error(`reference: array path "${node.path}" outside an aggregation input`);
      return asScalar(walk(record, node.path.split('.')));
    case 'lit':
      return node.value;
    case 'eq':
    case 'ne':
    case 'gt':
    case 'ge':
    case 'lt':
    case 'le': {
      const a = refEval(node.left, record);
      const b = refEval(node.right, record);
      if (a === null || b === null) return null;
      const c = order(a, b);
      return {
        eq: c === 0,
        ne: c !== 0,
        gt: c > 0,
        ge: c >= 0,
        lt: c < 0,
        le: c <= 0,
      }[node.op];
    }
    case 'in': {
      const v = refEval(node.arg, record);
      if (v === null) return null;
      return node.values.some((x) => typeof x === typeof v && order(v, x) === 0);
    }
    case 'isNull':
      return refEval(node.arg, record) === null;
    case 'isNotNull':
      return refEval(node.arg, record) !== null;
    case 'not': {
      const v = refEval(node.arg, record);
      return v === null ? null : v !== true;
    }
    case 'and': {
      const vs = node.args.map((a) => refEval(a, record));
      if (vs.includes(false)) return false;
      return vs.includes(null) ? null : true;
    }
    case 'or': {
      const vs = node.args.map((a) => refEval(a, record));
      if (vs.includes(true)) return true;
      return vs.includes(null) ? null : false;
    }
    case 'toNumber':
      return toNumber(refEval(node.arg, record));
    case 'coalesce': {
      for (const a of node.args) {
        const v = refEval(a, record);
        if (v !== null) return v;
      }
      return null;
    }
  }
}

/** A filter keeps a record only when the expression is exactly `true`. */
export function refKeep(node: ExprNode | null | undefined, record: Rec): boolean {
  return node == null || refEval(node, record) === true;
}

/**
 * The values of an aggregation input or weight: one per array element for `a[].b`, else one.
 */
export function refValues(node: ExprNode, record: Rec): RefValue[] {
  if (node.op === 'col' && node.path.includes('[].')) {
    const at = node.path.indexOf('[].');
    const array = walk(record, node.path.slice(0, at).split('.'));
    if (!Array.isArray(array)) return [];
    const steps = node.path.slice(at + 3).split('.');
    return array.map((element) => asScalar(walk(element, steps)));
  }
  return [refEval(node, record)];
}

/**
 * Compiles record expressions into plain closures for the TypeScript engines (stream worker,
 * push path, reference evaluator). Compiled once per definition, called per record.
 */
import { compareCodePoints } from '../../aggregation/compare-code-points.ts';
import { splitArrayPath, type ExprNode } from './expr.ts';
import type { Scalar } from '../../core/types.ts';

export type Value = Scalar | null;
type Rec = Record<string, unknown>;
export type Evaluator = (record: Rec) => Value;

/**
 * Whitespace is ASCII space, tab, CR, LF and FF only (RE2's `\s`, which the SQL renderings use;
 * JS's `\s` would also take NBSP, VT, U+2028, BOM…).
 */
const DECIMAL = /^[ \t\n\r\f]*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?[ \t\n\r\f]*$/;

/** `"19.99"` → 19.99; anything that is not a plain decimal number → null (SQL's TRY_CAST). */
export function decimalToNumber(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v !== 'string' || !DECIMAL.test(v)) return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

function scalarOrNull(v: unknown): Value {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : null;
}

/** Reads a dotted path: record fields and map keys alike; null when any step is missing. */
export function compilePath(path: string): (record: Rec) => unknown {
  const parts = path.split('.');
  if (parts.length === 1) {
    const [p] = parts as [string];
    return (r) => r[p] ?? null;
  }
  return (r) => {
    let cur: unknown = r;
    for (const p of parts) {
      if (cur === null || typeof cur !== 'object') return null;
      cur = (cur as Rec)[p];
    }
    return cur ?? null;
  };
}

function compare(op: string, a: Value, b: Value): boolean | null {
  if (a === null || b === null) return null;
  // Strings order by code point, as SQL does (JS's `<` compares UTF-16 code units).
  if (typeof a === 'string' && typeof b === 'string' && op !== 'eq' && op !== 'ne') {
    const c = compareCodePoints(a, b);
    return op === 'gt' ? c > 0 : op === 'ge' ? c >= 0 : op === 'lt' ? c < 0 : c <= 0;
  }
  switch (op) {
    case 'eq':
      return a === b;
    case 'ne':
      return a !== b;
    case 'gt':
      return a > b;
    case 'ge':
      return a >= b;
    case 'lt':
      return a < b;
    default:
      return a <= b;
  }
}

/** Compiles a scalar expression. Array paths (`a[].b`) are rejected here: see {@link compileMulti}. */
export function compileExpr(node: ExprNode): Evaluator {
  switch (node.op) {
    case 'col': {
      if (splitArrayPath(node.path)) {
        throw new Error(`array path "${node.path}" can only be an aggregation input or weight`);
      }
      const get = compilePath(node.path);
      return (r) => scalarOrNull(get(r));
    }
    case 'lit': {
      const v = node.value;
      return () => v;
    }
    case 'in': {
      const arg = compileExpr(node.arg);
      const set = new Set<Scalar>(node.values);
      return (r) => {
        const v = arg(r);
        return v === null ? null : set.has(v);
      };
    }
    case 'isNull': {
      const arg = compileExpr(node.arg);
      return (r) => arg(r) === null;
    }
    case 'isNotNull': {
      const arg = compileExpr(node.arg);
      return (r) => arg(r) !== null;
    }
    case 'not': {
      const arg = compileExpr(node.arg);
      return (r) => {
        const v = arg(r);
        return v === null ? null : !v;
      };
    }
    case 'and': {
      const args = node.args.map(compileExpr);
      return (r) => {
        let sawNull = false;
        for (const a of args) {
          const v = a(r);
          if (v === null) sawNull = true;
          else if (!v) return false;
        }
        return sawNull ? null : true;
      };
    }
    case 'or': {
      const args = node.args.map(compileExpr);
      return (r) => {
        let sawNull = false;
        for (const a of args) {
          const v = a(r);
          if (v === null) sawNull = true;
          else if (v) return true;
        }
        return sawNull ? null : false;
      };
    }
    case 'toNumber': {
      const arg = compileExpr(node.arg);
      return (r) => decimalToNumber(arg(r));
    }
    case 'coalesce': {
      const args = node.args.map(compileExpr);
      return (r) => {
        for (const a of args) {
          const v = a(r);
          if (v !== null) return v;
        }
        return null;
      };
    }
    default: {
      const left = compileExpr(node.left);
      const right = compileExpr(node.right);
      const op = node.op;
      return (r) => compare(op, left(r), right(r));
    }
  }
}

/** A filter: keeps the record only when the expression is exactly `true` (SQL WHERE). */
export function compileFilter(node: ExprNode | undefined): (record: Rec) => boolean {
  if (!node) return () => true;
  const f = compileExpr(node);
  return (r) => f(r) === true;
}

/**
 * Compiles an aggregation input that may read an array path: returns one value per array
 * element for `a[].b` (elements in order), or a one-element list for a scalar expression.
 */
export function compileMulti(node: ExprNode): (record: Rec) => Value[] {
  if (node.op === 'col') {
    const split = splitArrayPath(node.path);
    if (split) {
      const getArray = compilePath(split.array);
      const getElem = compilePath(split.element);
      return (r) => {
        const arr = getArray(r);
        return Array.isArray(arr) ? arr.map((e) => scalarOrNull(getElem(e as Rec))) : [];
      };
    }
  }
  const f = compileExpr(node);
  return (r) => [f(r)];
}

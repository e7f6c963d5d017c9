/**
 * Record expressions: the small, declarative language feature views use for filters, join keys,
 * aggregation inputs and weights. One AST, three back ends: `compileExpr` evaluates it in
 * TypeScript (stream worker, push path, reference evaluator), and each offline store renders it
 * as SQL (DuckDB, BigQuery). Semantics are SQL's: comparisons with null are null, `and`/`or`/`not`
 * are three-valued, and a filter keeps a record only when it evaluates to `true`.
 *
 * Paths: `'eventType'`, `'context.platform'` (record field), `'properties.productId'` (map key;
 * null when absent), `'orderItems[].category'` (one value per array element; only as an
 * aggregation input or weight).
 *
 * @example
 * col('eventType').eq('page_view')
 * and(col('userId').isNotNull(), col('properties.price').toNumber().gt(0))
 */
import type { Scalar } from '../../core/types.ts';

export type CompareOp = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';

export type ExprNode =
  | { op: 'col'; path: string }
  | { op: 'lit'; value: Scalar | null }
  | { op: CompareOp; left: ExprNode; right: ExprNode }
  | { op: 'in'; arg: ExprNode; values: Scalar[] }
  | { op: 'isNull' | 'isNotNull'; arg: ExprNode }
  | { op: 'and' | 'or'; args: ExprNode[] }
  | { op: 'not'; arg: ExprNode }
  | { op: 'toNumber'; arg: ExprNode }
  | { op: 'coalesce'; args: ExprNode[] };

/** A fluent wrapper around an {@link ExprNode}; serializes to the bare node. */
export class Expr {
  readonly node: ExprNode;
  constructor(node: ExprNode) {
    this.node = node;
  }
  eq(v: Scalar | Expr): Expr {
    return this.#cmp('eq', v);
  }
  ne(v: Scalar | Expr): Expr {
    return this.#cmp('ne', v);
  }
  gt(v: Scalar | Expr): Expr {
    return this.#cmp('gt', v);
  }
  ge(v: Scalar | Expr): Expr {
    return this.#cmp('ge', v);
  }
  lt(v: Scalar | Expr): Expr {
    return this.#cmp('lt', v);
  }
  le(v: Scalar | Expr): Expr {
    return this.#cmp('le', v);
  }
  in(values: readonly Scalar[]): Expr {
    return new Expr({ op: 'in', arg: this.node, values: [...values] });
  }
  isNull(): Expr {
    return new Expr({ op: 'isNull', arg: this.node });
  }
  isNotNull(): Expr {
    return new Expr({ op: 'isNotNull', arg: this.node });
  }
  /** A decimal string (`"19.99"`) as a float64; null when it is not a plain decimal number. */
  toNumber(): Expr {
    return new Expr({ op: 'toNumber', arg: this.node });
  }
  coalesce(...others: (Expr | Scalar)[]): Expr {
    return new Expr({ op: 'coalesce', args: [this.node, ...others.map(toNode)] });
  }
  toJSON(): ExprNode {
    return this.node;
  }
  #cmp(op: CompareOp, v: Scalar | Expr): Expr {
    return new Expr({ op, left: this.node, right: toNode(v) });
  }
}

function toNode(v: Scalar | Expr | null): ExprNode {
  return v instanceof Expr ? v.node : { op: 'lit', value: v };
}

/** A field of the source record (see the path forms above). */
export const col = (path: string): Expr => new Expr({ op: 'col', path });
export const lit = (value: Scalar | null): Expr => new Expr({ op: 'lit', value });
export const and = (...args: Expr[]): Expr =>
  new Expr({ op: 'and', args: args.map((a) => a.node) });
export const or = (...args: Expr[]): Expr => new Expr({ op: 'or', args: args.map((a) => a.node) });
export const not = (arg: Expr): Expr => new Expr({ op: 'not', arg: arg.node });

/** Every `col` path an expression reads, in order of first appearance. */
export function exprPaths(node: ExprNode, out: string[] = []): string[] {
  switch (node.op) {
    case 'col':
      if (!out.includes(node.path)) out.push(node.path);
      break;
    case 'lit':
      break;
    case 'and':
    case 'or':
    case 'coalesce':
      node.args.forEach((a) => exprPaths(a, out));
      break;
    case 'in':
    case 'isNull':
    case 'isNotNull':
    case 'not':
    case 'toNumber':
      exprPaths(node.arg, out);
      break;
    default:
      exprPaths(node.left, out);
      exprPaths(node.right, out);
  }
  return out;
}

/** Splits `'orderItems[].category'` into the array path and the element path. */
export function splitArrayPath(path: string): { array: string; element: string } | null {
  const i = path.indexOf('[].');
  return i < 0 ? null : { array: path.slice(0, i), element: path.slice(i + 3) };
}

/** A human-readable rendering, used in plan output and error messages. */
export function formatExpr(node: ExprNode): string {
  switch (node.op) {
    case 'col':
      return node.path;
    case 'lit':
      return JSON.stringify(node.value);
    case 'and':
    case 'or':
      return `(${node.args.map(formatExpr).join(` ${node.op} `)})`;
    case 'coalesce':
      return `coalesce(${node.args.map(formatExpr).join(', ')})`;
    case 'in':
      return `${formatExpr(node.arg)} in ${JSON.stringify(node.values)}`;
    case 'isNull':
      return `${formatExpr(node.arg)} is null`;
    case 'isNotNull':
      return `${formatExpr(node.arg)} is not null`;
    case 'not':
      return `not ${formatExpr(node.arg)}`;
    case 'toNumber':
      return `number(${formatExpr(node.arg)})`;
    default: {
      const sym = { eq: '=', ne: '!=', gt: '>', ge: '>=', lt: '<', le: '<=' }[node.op];
      return `${formatExpr(node.left)} ${sym} ${formatExpr(node.right)}`;
    }
  }
}

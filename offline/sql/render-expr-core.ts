/**
 * The SQL rendering of record expressions that every offline store shares: SQL's three-valued
 * operators map one to one. A dialect supplies what differs — column access, literals, the
 * not-equal operator and decimal-string parsing.
 */
import type { ExprNode } from '../../registry/expr.ts';
import { inferExprType } from '../../registry/expr-type.ts';
import type { RecordType } from '../../registry/record-schema.ts';

export interface SqlExprDialect {
  column(path: string): string;
  literal(value: unknown): string;
  /** Not-equal operator: `<>` or `!=`. */
  ne: string;
  /** A numeric input as a float (it is already a number). */
  castNumber(argSql: string): string;
  /** A string input as a float when it is a plain decimal number, else NULL (`toNumber`). */
  parseDecimal(argSql: string): string;
}

export function renderExprWith(
  dialect: SqlExprDialect,
  schema: RecordType,
  node: ExprNode,
): string {
  const r = (n: ExprNode): string => renderExprWith(dialect, schema, n);
  switch (node.op) {
    case 'col':
      return dialect.column(node.path);
    case 'lit':
      return dialect.literal(node.value);
    case 'in':
      return `(${r(node.arg)} IN (${node.values.map((v) => dialect.literal(v)).join(', ')}))`;
    case 'isNull':
      return `(${r(node.arg)} IS NULL)`;
    case 'isNotNull':
      return `(${r(node.arg)} IS NOT NULL)`;
    case 'and':
    case 'or':
      return `(${node.args.map(r).join(` ${node.op.toUpperCase()} `)})`;
    case 'not':
      return `(NOT ${r(node.arg)})`;
    case 'coalesce':
      return `COALESCE(${node.args.map(r).join(', ')})`;
    case 'toNumber': {
      const t = inferExprType(schema, node.arg);
      const arg = r(node.arg);
      return !('error' in t) && (t.type === 'int64' || t.type === 'float64')
        ? dialect.castNumber(arg)
        : dialect.parseDecimal(arg);
    }
    default: {
      const op = { eq: '=', ne: dialect.ne, gt: '>', ge: '>=', lt: '<', le: '<=' }[node.op];
      return `(${r(node.left)} ${op} ${r(node.right)})`;
    }
  }
}

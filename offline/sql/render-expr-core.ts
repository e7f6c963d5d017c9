/**
 * The SQL rendering of record expressions that every offline store shares: SQL's three-valued
 * operators map one to one. A dialect supplies what differs — column access, literals, the
 * not-equal operator and decimal-string parsing.
 */
import { splitArrayPath, type ExprNode } from '../../definitions/expr/expr.ts';
import { inferExprType } from '../../definitions/expr/expr-type.ts';
import type { FieldType, RecordType } from '../../definitions/record-schema.ts';

/** How a dialect reads one step of a record path. */
export interface SqlPathAccess {
  /** A record field: of `base`, or a top-level column when `base` is null. */
  field(base: string | null, name: string): string;
  /** The value of a map entry (null when absent). */
  mapValue(base: string, key: string): string;
}

/** The type at a dotted path of a schema (records and maps). */
function pathType(schema: RecordType, parts: readonly string[]): FieldType {
  let cur: FieldType = schema;
  for (const p of parts) {
    if (cur.kind === 'record') cur = cur.fields[p] as FieldType;
    else if (cur.kind === 'map') cur = cur.values;
    else throw new Error(`cannot read "${p}" of a ${cur.kind}`);
  }
  return cur;
}

function renderPath(
  access: SqlPathAccess,
  type: FieldType,
  base: string | null,
  parts: readonly string[],
): string {
  let cur = type;
  let sql = base;
  for (const p of parts) {
    if (cur.kind === 'record') {
      sql = access.field(sql, p);
      cur = cur.fields[p] as FieldType;
    } else if (cur.kind === 'map' && sql !== null) {
      sql = access.mapValue(sql, p);
      cur = cur.values;
    } else throw new Error(`cannot read "${p}" of a ${cur.kind}`);
    if (!cur) throw new Error(`unknown field "${p}"`);
  }
  return sql ?? '';
}

/**
 * SQL reading a record-expression path: a column, a nested field, a map key, or (for
 * `items[].field`) a field of the unnested element whose SQL alias `unnested` gives.
 */
export function renderColumnWith(
  access: SqlPathAccess,
  schema: RecordType,
  path: string,
  unnested: Record<string, string> | undefined,
): string {
  const split = splitArrayPath(path);
  if (split) {
    const alias = unnested?.[split.array];
    if (!alias) throw new Error(`array path "${path}" needs the array "${split.array}" unnested`);
    const arr = pathType(schema, split.array.split('.'));
    if (arr.kind !== 'array') throw new Error(`"${split.array}" is not an array`);
    return renderPath(access, arr.items, alias, split.element.split('.'));
  }
  return renderPath(access, schema, null, path.split('.'));
}

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

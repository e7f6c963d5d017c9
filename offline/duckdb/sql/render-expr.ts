/**
 * Renders a record expression (definitions/expr/expr.ts) as DuckDB SQL over a table whose columns are
 * the source record's top-level fields. Semantics match `compileExpr`: SQL's three-valued
 * logic, `properties.productId` is a map lookup (NULL when absent), `toNumber` accepts only a
 * plain decimal string (TRY_CAST alone would also take `inf`, `nan`, `1_000`).
 *
 * Array paths (`orderItems[].category`) read the element column named by `unnested`: the
 * caller unnests the array (`UNNEST("orderItems") AS __item`).
 */
import { exprPaths, type ExprNode } from '../../../definitions/expr/expr.ts';
import type { RecordType } from '../../../definitions/record-schema.ts';
import {
  renderColumnWith,
  renderExprWith,
  type SqlPathAccess,
} from '../../sql/render-expr-core.ts';
import { ident, sqlString } from '../../local/duckdb-client.ts';

/** Same pattern as `decimalToNumber` in definitions/expr/expr-eval.ts. */
const DECIMAL = String.raw`^[ \t\n\r\f]*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?[ \t\n\r\f]*$`;

export interface RenderOptions {
  /** Element column for array paths: array path (`orderItems`) → SQL column of one element. */
  unnested?: Record<string, string>;
}

const ACCESS: SqlPathAccess = {
  field: (base, name) => (base === null ? ident(name) : `(${base}).${ident(name)}`),
  mapValue: (base, key) => `map_extract_value(${base}, ${sqlString(key)})`,
};

export function renderColumn(schema: RecordType, path: string, opts: RenderOptions = {}): string {
  return renderColumnWith(ACCESS, schema, path, opts.unnested);
}

function literal(v: unknown): string {
  if (v === null) return 'NULL';
  // DuckDB's parser ends a quoted string at NUL: splice it in with chr(0).
  if (typeof v === 'string')
    return v.includes('\0')
      ? `(${v.split('\0').map(sqlString).join(' || chr(0) || ')})`
      : sqlString(v);
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  // Integers beyond 2^53 (`1e21`, `2^63`) are doubles in JS too: BIGINT could not hold all.
  if (typeof v === 'number') return Number.isSafeInteger(v) ? `${v}::BIGINT` : `${v}::DOUBLE`;
  throw new Error(`unsupported literal ${String(v)}`);
}

/**
 * Whether `node` reads an entry of a map column (`properties.productId`): DuckDB decodes such a
 * column whole — every entry's key and value — to find one.
 */
export function readsMap(schema: RecordType, node: ExprNode): boolean {
  let found = false;
  const access: SqlPathAccess = {
    ...ACCESS,
    mapValue: (base, key) => {
      found = true;
      return ACCESS.mapValue(base, key);
    },
  };
  for (const path of exprPaths(node)) {
    try {
      renderColumnWith(access, schema, path, undefined);
    } catch {
      // An array path (read from its unnested element) or one the schema lacks: no map here.
    }
  }
  return found;
}

/** Renders `node` as a DuckDB SQL expression over the source table's columns. */
export function renderExpr(schema: RecordType, node: ExprNode, opts: RenderOptions = {}): string {
  return renderExprWith(
    {
      column: (path) => renderColumn(schema, path, opts),
      literal,
      ne: '<>',
      castNumber: (arg) => `CAST(${arg} AS DOUBLE)`,
      // The pattern admits only [ \t\n\r\f] around the number, and DuckDB's cast skips
      // leading and trailing whitespace itself: no trim() (it cost more than the cast, ~0.13
      // CPU-s per 1M strings).
      parseDecimal: (arg) => {
        const v = `TRY_CAST(${arg} AS DOUBLE)`;
        return `(CASE WHEN regexp_full_match(${arg}, ${sqlString(DECIMAL)}) AND isfinite(${v}) THEN ${v} END)`;
      },
    },
    schema,
    node,
  );
}

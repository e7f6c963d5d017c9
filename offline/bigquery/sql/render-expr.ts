/**
 * Renders a record expression (definitions/expr/expr.ts) as BigQuery Standard SQL over a table whose
 * columns are the source record's top-level fields, with the same semantics as the DuckDB
 * renderer and `compileExpr`:
 * - a map field is an `ARRAY<STRUCT<key STRING, value STRING>>`: `properties.productId` →
 *   `(SELECT __kv.value FROM UNNEST(properties) AS __kv WHERE __kv.key = 'productId' LIMIT 1)`
 *   (NULL when absent; the alias keeps it unambiguous and emulator-friendly);
 * - a record field is a STRUCT: `context.platform` → `` `context`.`platform` ``;
 * - an array path (`orderItems[].category`) reads the element alias named in `unnested`;
 * - `toNumber` accepts only a plain decimal string (SAFE_CAST alone would take `inf`, `nan`):
 *   the regex extracts it (so never `nan`), an overflow to ±inf becomes NULL.
 *
 * @example
 * renderBqExpr(schema, col('properties.price').toNumber().node)
 */
import type { ExprNode } from '../../../definitions/expr/expr.ts';
import type { RecordType } from '../../../definitions/record-schema.ts';
import {
  renderColumnWith,
  renderExprWith,
  type SqlPathAccess,
} from '../../sql/render-expr-core.ts';
import { bqIdent, bqString } from './bq-sql.ts';

/**
 * Same pattern as `decimalToNumber` in definitions/expr/expr-eval.ts (RE2 syntax), with the number
 * (without the surrounding whitespace) as the one capturing group `REGEXP_EXTRACT` returns.
 */
const DECIMAL = String.raw`^[ \t\n\r\f]*([+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)[ \t\n\r\f]*$`;

export interface BqRenderOptions {
  /** Qualify top-level columns with this table alias (`s` → `` s.`context`.`platform` ``). */
  table?: string;
  /** Array path (`orderItems`) → SQL alias of one unnested element. */
  unnested?: Record<string, string>;
}

function column(schema: RecordType, path: string, opts: BqRenderOptions): string {
  const access: SqlPathAccess = {
    field: (base, name) =>
      base !== null
        ? `${base}.${bqIdent(name)}`
        : opts.table
          ? `${opts.table}.${bqIdent(name)}`
          : bqIdent(name),
    mapValue: (base, key) =>
      `(SELECT __kv.value FROM UNNEST(${base}) AS __kv WHERE __kv.key = ${bqString(key)} LIMIT 1)`,
  };
  return renderColumnWith(access, schema, path, opts.unnested);
}

/** A literal (safe integers as INT64, other numbers — `1e21`, `2^63` too — as FLOAT64). */
export function bqLiteral(v: unknown): string {
  if (v === null) return 'NULL';
  if (typeof v === 'string') return bqString(v);
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  if (typeof v === 'number')
    return Number.isSafeInteger(v) ? `${v}` : `CAST(${bqString(String(v))} AS FLOAT64)`;
  throw new Error(`unsupported literal ${String(v)}`);
}

/** Renders `node` as a BigQuery expression over the source table's columns. */
export function renderBqExpr(
  schema: RecordType,
  node: ExprNode,
  opts: BqRenderOptions = {},
): string {
  return renderExprWith(
    {
      column: (path) => column(schema, path, opts),
      literal: bqLiteral,
      ne: '!=',
      castNumber: (arg) => `CAST(${arg} AS FLOAT64)`,
      parseDecimal: (arg) => {
        const v = `SAFE_CAST(REGEXP_EXTRACT(${arg}, ${bqString(DECIMAL)}) AS FLOAT64)`;
        return `IF(IS_INF(${v}), NULL, ${v})`;
      },
    },
    schema,
    node,
  );
}

/** DuckDB types for record schemas: map → MAP(VARCHAR, …), record → STRUCT, array → LIST. */
import type { FieldType, RecordType } from '../../definitions/record-schema.ts';
import type { ValueType } from '../../core/types.ts';
import { ident } from './duckdb-client.ts';

const SCALAR: Record<ValueType, string> = {
  string: 'VARCHAR',
  int64: 'BIGINT',
  float64: 'DOUBLE',
  bool: 'BOOLEAN',
  string_list: 'VARCHAR[]',
  int64_list: 'BIGINT[]',
  float64_list: 'DOUBLE[]',
};

export const sqlValueType = (t: ValueType): string => SCALAR[t];

/** The DuckDB column type of a field. */
export function sqlType(f: FieldType): string {
  switch (f.kind) {
    case 'map':
      return `MAP(VARCHAR, ${sqlType(f.values)})`;
    case 'array':
      return `${sqlType(f.items)}[]`;
    case 'record':
      return `STRUCT(${Object.entries(f.fields)
        .map(([k, v]) => `${ident(k)} ${sqlType(v)}`)
        .join(', ')})`;
    default:
      return SCALAR[f.kind];
  }
}

/** The structure argument of `json_transform` for a field (same types as {@link sqlType}). */
export function jsonStructure(f: FieldType): unknown {
  switch (f.kind) {
    case 'map':
      return `MAP(VARCHAR, ${sqlType(f.values)})`;
    case 'array':
      return [jsonStructure(f.items)];
    case 'record':
      return Object.fromEntries(Object.entries(f.fields).map(([k, v]) => [k, jsonStructure(v)]));
    default:
      return SCALAR[f.kind];
  }
}

/** Only the top-level fields a set of paths reads (`properties.productId` → `properties`). */
export function pickFields(schema: RecordType, paths: Iterable<string>): RecordType {
  const fields: Record<string, FieldType> = {};
  for (const p of paths) {
    const top = p.split(/[.[]/)[0] as string;
    const f = schema.fields[top];
    if (f) fields[top] = f;
  }
  return { kind: 'record', nullable: false, fields };
}

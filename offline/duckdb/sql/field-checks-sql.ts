/**
 * SQL for a field's zod checks (`definitions/field-checks.ts`): the same decisions, in the same
 * order and with the same reasons, as `checkProblem`, over a JSON value (JSON Lines read field by
 * field) or a typed one (Parquet, and JSON Lines lines DuckDB typed exactly).
 */
import { checkMessage, type FieldChecks } from '../../../definitions/field-checks.ts';
import type { FieldType } from '../../../definitions/record-schema.ts';
import { sqlString } from '../../local/duckdb-client.ts';

const num = (n: number): string => `(${String(n)})`;

/**
 * A string's length in UTF-16 code units, as JavaScript and zod count: DuckDB's `length` counts
 * code points, so each code point beyond U+FFFF (a surrogate pair) adds one.
 */
const utf16Length = (s: string): string =>
  `(length(${s}) + length(regexp_replace(${s}, '[^\\x{10000}-\\x{10FFFF}]', '', 'g')))`;

function checksSql(
  checks: FieldChecks,
  kind: FieldType['kind'],
  value: string,
  label: string,
): string | null {
  const whens: string[] = [];
  const when = (cond: string, message: string): void => {
    whens.push(`WHEN ${cond} THEN ${sqlString(message)}`);
  };
  if (kind === 'string') {
    // Code points ≤ UTF-16 units ≤ UTF-8 bytes: the exact count only when the cheap ones cannot tell.
    if (checks.minLength !== undefined)
      when(
        `length(${value}) < ${checks.minLength} AND ${utf16Length(value)} < ${checks.minLength}`,
        checkMessage.minLength(label, checks.minLength),
      );
    if (checks.maxLength !== undefined)
      when(
        `strlen(${value}) > ${checks.maxLength} AND ${utf16Length(value)} > ${checks.maxLength}`,
        checkMessage.maxLength(label, checks.maxLength),
      );
  } else if (kind === 'int64' || kind === 'float64') {
    if (checks.finite && kind === 'float64')
      when(`NOT isfinite(${value})`, checkMessage.finite(label));
    if (checks.min !== undefined)
      when(
        `${value} ${checks.minExclusive ? '<=' : '<'} ${num(checks.min)}`,
        checkMessage.min(label, checks.min, checks.minExclusive === true),
      );
    if (checks.max !== undefined)
      when(
        `${value} ${checks.maxExclusive ? '>=' : '>'} ${num(checks.max)}`,
        checkMessage.max(label, checks.max, checks.maxExclusive === true),
      );
  } else if (kind === 'array') {
    if (checks.minItems !== undefined)
      when(`${value} < ${checks.minItems}`, checkMessage.minItems(label, checks.minItems));
    if (checks.maxItems !== undefined)
      when(`${value} > ${checks.maxItems}`, checkMessage.maxItems(label, checks.maxItems));
  }
  return whens.length > 0 ? `CASE ${whens.join(' ')} END` : null;
}

/** SQL for the first check the JSON value `e` (of the field's JSON type, not null) breaks. */
export function jsonChecksReason(f: FieldType, e: string, label: string): string | null {
  if (!('checks' in f) || !f.checks) return null;
  const value =
    f.kind === 'string'
      ? `(${e} ->> '$')`
      : f.kind === 'array'
        ? `json_array_length(${e})`
        : `TRY_CAST(${e} AS DOUBLE)`;
  return checksSql(f.checks, f.kind, value, label);
}

/** SQL for the first check the typed value `e` (not null) breaks. */
export function typedChecksReason(f: FieldType, e: string, label: string): string | null {
  if (!('checks' in f) || !f.checks) return null;
  return checksSql(f.checks, f.kind, f.kind === 'array' ? `len(${e})` : e, label);
}

/**
 * `sub` (the value's other problems) with the checks' reason: an array's length is checked
 * before its items, a scalar's checks after its type-level problems (enum, int64 range).
 */
export function withChecks(f: FieldType, sub: string, checks: string | null): string {
  if (!checks) return sub;
  if (sub === 'NULL') return checks;
  return f.kind === 'array' ? `COALESCE(${checks}, ${sub})` : `COALESCE(${sub}, ${checks})`;
}

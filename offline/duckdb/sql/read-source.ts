/**
 * SQL that loads one batch source into a typed temp table, keeping only the top-level fields
 * the export reads, plus `__file` and `__reason` (null for a good record; see
 * `offline/validate-record.ts` for the rules, which this SQL mirrors).
 *
 * JSON Lines are read as raw lines and parsed with one `json_extract(line, [paths])` per line;
 * every nested value is checked with `json_type` on its own (small) JSON text, so type errors
 * the lenient JSON casts would hide are caught. Parquet is typed already: only nulls in
 * non-nullable fields and enum violations are checked.
 */
import {
  futureMessage,
  KIND_NAME,
  LINE_TOO_LONG,
  LONG_LINE_MARK,
  MAX_DATE_MS,
  MAX_LINE_BYTES,
  outOfRangeMessage,
} from '../../validate-record.ts';
import {
  INT64_EXACT_MAX,
  int64RangeMessage,
  type FieldType,
  type RecordType,
} from '../../../definitions/record-schema.ts';
import { ident, sqlString } from '../../local/duckdb-client.ts';
import { jsonStructure, sqlType } from '../../local/column-types.ts';
import { jsonChecksReason, typedChecksReason, withChecks } from './field-checks-sql.ts';

const TYPE_NAME = `CASE json_type(%) WHEN 'VARCHAR' THEN 'string' WHEN 'BOOLEAN' THEN 'boolean' WHEN 'OBJECT' THEN 'object' WHEN 'ARRAY' THEN 'array' ELSE 'number' END`;
let lambdaDepth = 0;
/** Lines are read as one CSV column: a delimiter that cannot occur unescaped in JSON. */
const UNIT_SEPARATOR = '\x1f';
/**
 * A line JavaScript's `trim()` empties (RE2): blank lines are skipped, not rejected. SQL's
 * `trim` removes spaces only (and costs ~2 µs on a 400-byte line); lines starting with `{` skip
 * the test.
 */
const JS_BLANK =
  '[\\s\\x{0b}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}\\x{feff}]*';

function typeOk(f: FieldType, e: string): string {
  switch (f.kind) {
    case 'string':
      return `json_type(${e}) = 'VARCHAR'`;
    case 'int64':
      return `(json_type(${e}) IN ('BIGINT', 'UBIGINT') OR (json_type(${e}) = 'DOUBLE' AND isfinite(TRY_CAST(${e} AS DOUBLE)) AND TRY_CAST(${e} AS DOUBLE) = floor(TRY_CAST(${e} AS DOUBLE))))`;
    case 'float64':
      return `json_type(${e}) IN ('BIGINT', 'UBIGINT', 'DOUBLE')`;
    case 'bool':
      return `json_type(${e}) = 'BOOLEAN'`;
    case 'array':
      return `json_type(${e}) = 'ARRAY'`;
    default:
      return `json_type(${e}) = 'OBJECT'`;
  }
}

/** An enum's values as SQL list items (`list_contains`, not `IN`: an `IN` list becomes a join,
 * and DuckDB's progress then follows the join's tiny build side). */
const inList = (values: readonly string[]): string => values.map(sqlString).join(', ');

/** SQL for the first problem of a JSON value `e` (NULL = absent), or NULL. */
export function jsonReason(f: FieldType, e: string, label: string): string {
  const missing = f.nullable ? 'NULL' : sqlString(`missing required field "${label}"`);
  const wrong = `${sqlString(`field "${label}": expected ${KIND_NAME[f.kind]}, got `)} || ${TYPE_NAME.replaceAll('%', e)}`;
  let sub = 'NULL';
  switch (f.kind) {
    case 'int64':
      sub = `CASE WHEN abs(TRY_CAST(${e} AS DOUBLE)) > ${INT64_EXACT_MAX} THEN ${sqlString(int64RangeMessage(label))} END`;
      break;
    case 'string':
      if (f.enum)
        sub = `CASE WHEN NOT list_contains([${inList(f.enum)}], ${e} ->> '$') THEN ${sqlString(`field "${label}": `)} || (${e})::VARCHAR || ${sqlString(` is not one of ${f.enum.join(', ')}`)} END`;
      break;
    case 'record': {
      const names = Object.keys(f.fields);
      if (names.length > 0) {
        const parts = `json_extract(${e}, [${names.map((k) => sqlString(`$.${JSON.stringify(k)}`)).join(', ')}])`;
        const x = `__r${lambdaDepth++}`;
        const checks = names.map((k, i) =>
          jsonReason(f.fields[k] as FieldType, `${x}[${i + 1}]`, `${label}.${k}`),
        );
        lambdaDepth--;
        // A one-element list_transform binds the parsed parts once.
        sub = `list_transform([${parts}], lambda ${x}: COALESCE(${checks.join(', ')}))[1]`;
      }
      break;
    }
    case 'map':
    case 'array': {
      const x = `__x${lambdaDepth++}`;
      const inner =
        f.kind === 'map'
          ? jsonReason(f.values, x, `${label}.*`)
          : jsonReason(f.items, x, `${label}[]`);
      lambdaDepth--;
      const path = f.kind === 'map' ? "'$.*'" : "'$[*]'";
      sub = `list_filter(list_transform(json_extract(${e}, ${path}), lambda ${x}: ${inner}), lambda r: r IS NOT NULL)[1]`;
      break;
    }
  }
  sub = withChecks(f, sub, jsonChecksReason(f, e, label));
  return `CASE WHEN ${e} IS NULL OR json_type(${e}) = 'NULL' THEN ${missing} WHEN NOT (${typeOk(f, e)}) THEN ${wrong} ELSE ${sub} END`;
}

/** SQL turning a validated JSON value into the field's DuckDB type. */
export function jsonCast(f: FieldType, e: string): string {
  switch (f.kind) {
    case 'string':
      return `(${e} ->> '$')`;
    case 'int64':
      return `COALESCE(TRY_CAST(${e} AS BIGINT), TRY_CAST(TRY_CAST(${e} AS DOUBLE) AS BIGINT))`;
    case 'float64':
      return `TRY_CAST(${e} AS DOUBLE)`;
    case 'bool':
      return `TRY_CAST(${e} AS BOOLEAN)`;
    default:
      return `json_transform(${e}, ${sqlString(JSON.stringify(jsonStructure(f)))})`;
  }
}

/** SQL for the first problem of a typed value (Parquet): nulls in required fields, enums. */
export function typedReason(f: FieldType, e: string, label: string): string {
  const missing = f.nullable ? 'NULL' : sqlString(`missing required field "${label}"`);
  let sub = 'NULL';
  switch (f.kind) {
    case 'int64':
      sub = `CASE WHEN ${e} > ${INT64_EXACT_MAX} OR ${e} < -${INT64_EXACT_MAX} THEN ${sqlString(int64RangeMessage(label))} END`;
      break;
    case 'string':
      if (f.enum)
        sub = `CASE WHEN NOT list_contains([${inList(f.enum)}], ${e}) THEN ${sqlString(`field "${label}": `)} || to_json(${e})::VARCHAR || ${sqlString(` is not one of ${f.enum.join(', ')}`)} END`;
      break;
    case 'record': {
      const checks = Object.entries(f.fields).map(([k, sub2]) =>
        typedReason(sub2, `${e}.${ident(k)}`, `${label}.${k}`),
      );
      if (checks.length > 0) sub = `COALESCE(${checks.join(', ')})`;
      break;
    }
    case 'map':
    case 'array': {
      const x = `__x${lambdaDepth++}`;
      const inner =
        f.kind === 'map'
          ? typedReason(f.values, x, `${label}.*`)
          : typedReason(f.items, x, `${label}[]`);
      lambdaDepth--;
      const list = f.kind === 'map' ? `map_values(${e})` : e;
      sub = `list_filter(list_transform(${list}, lambda ${x}: ${inner}), lambda r: r IS NOT NULL)[1]`;
      break;
    }
  }
  sub = withChecks(f, sub, typedChecksReason(f, e, label));
  return `CASE WHEN ${e} IS NULL THEN ${missing} ELSE ${sub} END`;
}

/**
 * SQL for the ingest rules' reason of a loaded record (`ingestProblem`, same messages):
 * `ts` (its typed event-time column) outside JavaScript's date range or later than
 * `now + maxFutureSkewMs`; NULL when neither.
 */
export function ingestReasonSql(
  field: string,
  rules: { now: number; maxFutureSkewMs: number },
): string {
  const e = ident(field);
  const [before, after] = futureMessage(field, '\u0000', rules).split('\u0000');
  const [rb, ra] = outOfRangeMessage(field, '\u0000').split('\u0000');
  return (
    `CASE WHEN abs(${e}) > ${MAX_DATE_MS} THEN ${sqlString(rb!)} || ${e}::VARCHAR || ${sqlString(ra!)} ` +
    `WHEN ${e} > ${rules.now + rules.maxFutureSkewMs} THEN ${sqlString(before!)} || ${e}::VARCHAR || ${sqlString(after!)} END`
  );
}

/**
 * SQL: whether the JSON text `e`, which DuckDB parsed, uses what DuckDB's parser accepts beyond
 * standard JSON (and `JSON.parse` refuses): `NaN` / `Infinity` / `inf` literals in any case, and
 * trailing commas. Strings are blanked out first so their contents never match.
 */
function nonStandardJson(e: string): string {
  return `regexp_matches(regexp_replace(${e}, '"(?:[^"\\\\]|\\\\.)*"', '""', 'g'), '(?i)nan|inf|,[ \\t\\r\\n]*[\\]}]')`;
}

/**
 * SQL: whether every float64 value of a typed value `e` is finite (NULL when none is, no test
 * needed → null). A canonical line holding `NaN` or `Infinity` is not JSON to `JSON.parse`.
 */
function finiteSql(f: FieldType, e: string): string | null {
  switch (f.kind) {
    case 'float64':
      return `(${e} IS NULL OR isfinite(${e}))`;
    case 'record': {
      const parts = Object.entries(f.fields).flatMap(([k, sub]) => {
        const p = finiteSql(sub, `${e}.${ident(k)}`);
        return p ? [p] : [];
      });
      return parts.length > 0 ? `(${e} IS NULL OR (${parts.join(' AND ')}))` : null;
    }
    case 'map':
    case 'array': {
      const x = `__f${lambdaDepth++}`;
      const inner = finiteSql(f.kind === 'map' ? f.values : f.items, x);
      lambdaDepth--;
      if (!inner) return null;
      const list = f.kind === 'map' ? `map_values(${e})` : e;
      return `(${e} IS NULL OR list_bool_and(list_transform(${list}, lambda ${x}: ${inner})) IS NOT FALSE)`;
    }
    default:
      return null;
  }
}

export interface SourceFiles {
  jsonl: string[];
  parquet: string[];
}

/**
 * `SELECT __file, __line, __reason, <fields>` over the source's files: `__line` is the 1-based
 * row for Parquet and null for JSON Lines (found later, only for files with rejects).
 *
 * A JSON Lines line is first typed by DuckDB in one parse (`json_transform` to the schema's
 * types). Those casts are lenient (`"5"` reads as the int64 5, `5` as the string "5", unknown
 * and absent keys pass), so the typed record is trusted only when its canonical JSON
 * (`to_json`) is the line itself, byte for byte: then every value had the JSON type its column
 * declares, no key was unknown, absent or repeated, and only what {@link typedReason} checks
 * (required fields, enums, the int64 range) remains. Every other line — rejects, but also good
 * records written differently (other key order, spaces, `1.0` for an int64, absent optional
 * fields) — is validated field by field with {@link jsonReason} and typed with {@link jsonCast},
 * the record-level rules. `typed: false` validates every line that way (the differential tests
 * compare both). The canonical text costs about as much as the typed parse (~0.6 µs a line of
 * the e-commerce events, one thread); building it by concatenating the typed values instead,
 * exact only with guards (no backslash in the line, no quote in a string), measured no cheaper:
 * `||` chains 2× the CPU of `to_json`, `concat()` plus the guards about the same.
 */
export function readSourceSql(
  schema: RecordType,
  fields: readonly string[],
  files: SourceFiles,
  options: {
    typed?: boolean;
    /**
     * The typed parse without `TRY`: the statement fails on a line that is not JSON (the caller
     * then runs it again without this), and otherwise reads exactly the same rows. `TRY` cost the
     * parse 0.1–0.4 CPU-s per 1M e-commerce events (one thread) when nothing failed.
     */
    untried?: boolean;
    /**
     * The files were rewritten (`jsonl-rewrite.ts`): a line reading `LONG_LINE_MARK` stands for
     * one longer than 16 MiB, rejected with `LINE_TOO_LONG`.
     */
    rewritten?: boolean;
  } = {},
): string {
  const all = Object.keys(schema.fields);
  const parts: string[] = [];
  if (files.jsonl.length > 0) {
    const paths = all.map((k) => sqlString(`$.${JSON.stringify(k)}`)).join(', ');
    const reasons = all.map((k, i) =>
      jsonReason(schema.fields[k] as FieldType, `__p[${i + 1}]`, k),
    );
    const lines = `read_csv([${files.jsonl.map(sqlString).join(', ')}], columns = {'line': 'VARCHAR'}, header = false, delim = '${UNIT_SEPARATOR}', quote = '', escape = '', auto_detect = false, filename = true, max_line_size = ${MAX_LINE_BYTES + 2})`;
    // A line longer than MAX_LINE_BYTES is a reject. DuckDB's line reader refuses some of them
    // (a line of max_line_size bytes, line break excluded, and longer: never one of
    // MAX_LINE_BYTES with its `\r\n`); the file is then read rewritten, such lines marked.
    const tooLong = `strlen(line) > ${MAX_LINE_BYTES}${options.rewritten ? ` OR line = ${sqlString(LONG_LINE_MARK)}` : ''}`;
    const long = `WHEN ${tooLong} THEN ${sqlString(LINE_TOO_LONG)} `;
    const reason = `CASE ${long}WHEN __p IS NULL OR ${nonStandardJson('line')} THEN 'invalid JSON' WHEN list_bool_and(list_transform(__p, lambda v: v IS NULL)) AND json_type(line) <> 'OBJECT' THEN 'not a JSON object' ELSE COALESCE(${reasons.join(', ')}) END`;
    const nonBlank = `SELECT filename AS __file, line FROM ${lines} WHERE line IS NOT NULL AND (starts_with(line, '{') OR NOT regexp_full_match(line, ${sqlString(JS_BLANK)}))`;
    if (options.typed === false) {
      const cols = fields.map(
        (k) =>
          `CASE WHEN __reason IS NULL THEN ${jsonCast(schema.fields[k] as FieldType, `__p[${all.indexOf(k) + 1}]`)} END AS ${ident(k)}`,
      );
      parts.push(
        `SELECT __file, NULL::BIGINT AS __line, __reason${cols.map((c) => `, ${c}`).join('')} FROM (` +
          `SELECT __file, __p, ${reason} AS __reason FROM (` +
          `SELECT __file, line, TRY(json_extract(line, [${paths}])) AS __p FROM (${nonBlank})))`,
      );
    } else {
      const structure = sqlString(JSON.stringify(jsonStructure(schema)));
      const typedReasons = all.map((k) =>
        typedReason(schema.fields[k] as FieldType, `__t.${ident(k)}`, k),
      );
      const finite = all.flatMap((k) => {
        const f = finiteSql(schema.fields[k] as FieldType, `__t.${ident(k)}`);
        return f ? [f] : [];
      });
      const fast = `COALESCE(strlen(line) <= ${MAX_LINE_BYTES} AND to_json(__t)::VARCHAR = line AND COALESCE(${typedReasons.join(', ')}) IS NULL${finite.map((f) => ` AND ${f}`).join('')}, false)`;
      const cols = fields.map(
        (k) =>
          `CASE WHEN __fast THEN __t.${ident(k)} WHEN __reason IS NULL THEN ${jsonCast(schema.fields[k] as FieldType, `__p[${all.indexOf(k) + 1}]`)} END AS ${ident(k)}`,
      );
      // Each layer's CASE evaluates its record-level branch only on the lines not typed exactly.
      parts.push(
        `SELECT __file, NULL::BIGINT AS __line, __reason${cols.map((c) => `, ${c}`).join('')} FROM (` +
          `SELECT __file, __t, __fast, __p, CASE WHEN __fast THEN NULL ELSE ${reason} END AS __reason FROM (` +
          `SELECT __file, line, __t, __fast, CASE WHEN NOT __fast THEN TRY(json_extract(line, [${paths}])) END AS __p FROM (` +
          `SELECT __file, line, __t, ${fast} AS __fast FROM (` +
          `SELECT __file, line, ${options.untried ? '' : 'TRY'}(json_transform(line, ${structure})) AS __t FROM (${nonBlank})))))`,
      );
    }
  }
  if (files.parquet.length > 0) {
    const reasons = all.map((k) => typedReason(schema.fields[k] as FieldType, ident(k), k));
    const cols = fields.map(
      (k) => `CAST(${ident(k)} AS ${sqlType(schema.fields[k] as FieldType)}) AS ${ident(k)}`,
    );
    parts.push(
      `SELECT filename AS __file, file_row_number + 1 AS __line, COALESCE(${reasons.join(', ')}) AS __reason${cols.length ? `, ${cols.join(', ')}` : ''} ` +
        `FROM read_parquet([${files.parquet.map(sqlString).join(', ')}], filename = true, file_row_number = true, union_by_name = true)`,
    );
  }
  return parts.join(' UNION ALL BY NAME ');
}

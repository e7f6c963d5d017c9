/**
 * The entity rows of an export, loaded into a local DuckDB temp table with `__rid` (row order)
 * and `__t` (epoch ms): from a file (`entity-file.ts`), from rows in memory, or as a time grid
 * over the entity keys the engine finds in the sources. Timestamps that are not times, or that
 * look like seconds or microseconds read as milliseconds, are refused with one precise error.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LarderError } from '../../core/errors.ts';
import { isListType, type ValueType } from '../../core/types.ts';
import { sqlValueType } from '../local/column-types.ts';
import { ident, type DuckDBClient } from '../local/duckdb-client.ts';
import { PLAUSIBLE_MS, type EntitySource } from '../offline-store.ts';
import { loadEntityFile, nonObjectLinesOf } from './entity-file.ts';
import { TIMESTAMP_COLUMN, timestampExpr, timestampIsNumberExpr } from './entity-timestamp.ts';
import type { ExportEngine } from './export-engine.ts';
import type { Pass } from './pass.ts';

export interface EntityRowsContext {
  client: DuckDBClient;
  /** A fresh temp-table or file name. */
  name: (prefix: string) => string;
  /** Where rows in memory are written as a file for DuckDB to read. */
  tmpDir: string;
  /** The entity keys a time grid samples (see {@link ExportEngine.gridKeys}). */
  gridKeys: ExportEngine['gridKeys'];
}

export interface EntityRows {
  /** Temp table `(__rid, __t, <the entity rows' own columns>)`. */
  table: string;
  /** The entity rows' own columns with their DuckDB types, in order. */
  columns: { name: string; type: string }[];
}

/** Loads the entity rows into a temp table with `__rid` (row order) and `__t` (ms). */
export async function loadEntities(
  ctx: EntityRowsContext,
  src: EntitySource,
  joinKeys: readonly string[],
  passes: Pass[],
  requestFields: readonly RequestFieldColumn[] = [],
  /** Declared type of each join key (an entity's `valueType`); a key not listed is read as is. */
  keyTypes: ReadonlyMap<string, ValueType> = new Map(),
): Promise<EntityRows> {
  const { client } = ctx;
  const raw = ctx.name('ent_raw');
  const table = ctx.name('ent');
  if (src.type === 'grid') {
    if (!(src.everyMs > 0) || src.end < src.start)
      throw new LarderError(
        'LARDER_BAD_REQUEST',
        'the time grid needs start <= end and a positive step',
        { detail: { reason: 'invalid_option' } },
      );
    const keySets = new Set(passes.map((p) => p.keys.map((k) => k.joinKey).join(',')));
    if (keySets.size !== 1) {
      throw new LarderError(
        'LARDER_BAD_REQUEST',
        `a time grid samples the entities of one key set, but these features are keyed by ${[...keySets].map((k) => `(${k})`).join(' and ')}`,
        {
          detail: { reason: 'conflicting_fields' },
          hint: 'export features of one entity (or one entity combination) at a time, or pass --entities',
        },
      );
    }
    const keys = await ctx.gridKeys(client, passes, ctx.name);
    const cols = passes[0]!.keys.map((k) => ident(k.joinKey));
    await client.run(
      `CREATE TEMP TABLE ${raw} AS SELECT ${cols.join(', ')}, ${TIMESTAMP_COLUMN} FROM (SELECT DISTINCT * FROM (${keys})) ` +
        `CROSS JOIN (SELECT unnest(range(${src.start}::BIGINT, ${src.end}::BIGINT + 1, ${src.everyMs}::BIGINT)) AS ${TIMESTAMP_COLUMN}) ORDER BY ${TIMESTAMP_COLUMN}, ${cols.join(', ')}`,
    );
  } else {
    let path: string;
    if (src.type === 'rows') {
      path = join(ctx.tmpDir, `${ctx.name('rows')}.jsonl`);
      writeFileSync(path, src.rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
      if (src.rows.length === 0) {
        await client.run(
          `CREATE TEMP TABLE ${raw} AS SELECT ${[...joinKeys.map((k) => `NULL::VARCHAR AS ${ident(k)}`), ...requestFields.map((f) => `NULL::${sqlValueType(f.type)} AS ${ident(f.name)}`), `NULL::BIGINT AS ${TIMESTAMP_COLUMN}`].join(', ')} LIMIT 0`,
        );
      }
    } else path = src.path;
    if (src.type === 'file' && !existsSync(path))
      throw new LarderError('LARDER_NOT_FOUND', `entity file "${path}" does not exist`, {
        hint: 'check the path passed as --entities',
      });
    if (!(src.type === 'rows' && src.rows.length === 0))
      await loadEntityFile(
        client,
        path,
        raw,
        [...joinKeys, ...requestFields.map((f) => f.name), TIMESTAMP_COLUMN],
        ctx.name,
        ctx.tmpDir,
      );
  }
  const described = await client.all(`DESCRIBE ${raw}`);
  const columns = described.map((d) => ({
    name: String(d.column_name),
    type: String(d.column_type),
  }));
  const needed = [...joinKeys, ...requestFields.map((f) => f.name), TIMESTAMP_COLUMN];
  const missing = needed.filter((k) => !columns.some((c) => c.name === k));
  if (missing.length > 0) {
    throw new LarderError(
      'LARDER_BAD_REQUEST',
      `the entity rows lack the column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`,
      {
        detail: { reason: 'missing_field' },
        hint: `entity rows need ${needed.join(', ')} (event_timestamp in epoch ms or ISO-8601)`,
      },
    );
  }
  const where = src.type === 'file' ? `entity file ${src.path}` : 'entity rows';
  const asText = [
    ...(await joinKeysAsDeclared(
      client,
      raw,
      columns,
      joinKeys,
      where,
      src.type === 'grid' ? new Map() : keyTypes,
    )),
    ...(await requestFieldsAsDeclared(client, raw, columns, requestFields, where)),
  ];
  const tsType = columns.find((c) => c.name === TIMESTAMP_COLUMN)!.type;
  const explicitUnit = src.type === 'grid' ? 'ms' : src.timestampUnit;
  const unit = explicitUnit ?? 'ms';
  const replace =
    asText.length === 0
      ? ''
      : ` REPLACE (${asText.map((k) => `${k.expr} AS ${ident(k.key)}`).join(', ')})`;
  await client.run(
    `CREATE TEMP TABLE ${table} AS SELECT rowid AS __rid, ${timestampExpr(tsType, unit)} AS __t, *${replace} FROM ${raw}`,
  );
  for (const c of columns) {
    const read = asText.find((k) => k.key === c.name);
    if (read) c.type = read.type;
  }
  const bad = await client.all(
    `SELECT __rid, CAST(${ident(TIMESTAMP_COLUMN)} AS VARCHAR) AS v FROM ${table} WHERE __t IS NULL ORDER BY __rid LIMIT 1`,
  );
  if (bad.length > 0) {
    // A JSON Lines line `null` is read as a row of nulls: named as the line it is.
    const notObjects = src.type === 'file' ? await nonObjectLinesOf(src.path) : undefined;
    if (notObjects !== undefined) throw notObjects;
    throw new LarderError(
      'LARDER_BAD_REQUEST',
      `${where}, row ${Number(bad[0]!.__rid) + 1}: ${TIMESTAMP_COLUMN} ${JSON.stringify(bad[0]!.v)} is not a time`,
      {
        detail: { reason: 'invalid_value' },
        hint: `write ${TIMESTAMP_COLUMN} as ISO-8601 (2026-11-27T10:00:00Z) or an epoch number (unit: --timestamp-unit s|ms|us, default ms)`,
      },
    );
  }
  if (explicitUnit === undefined) await checkTimestampUnit(client, table, tsType, where);
  await client.run(`DROP TABLE ${raw}`);
  return { table, columns };
}

/** The first row of `raw` (1-based) where `condition` holds, with `value` read as text. */
async function firstRowWhere(
  client: DuckDBClient,
  raw: string,
  value: string,
  condition: string,
): Promise<{ row: number; value: string } | undefined> {
  const [first] = await client.all(
    `SELECT rowid AS r, ${value} AS v FROM ${raw} WHERE ${condition} ORDER BY rowid LIMIT 1`,
  );
  return first === undefined ? undefined : { row: Number(first.r) + 1, value: String(first.v) };
}

/** An entity row's value that is not of its column's type (400, `wrong_type`). */
const wrongType = (message: string, hint: string): LarderError =>
  new LarderError('LARDER_BAD_REQUEST', message, { detail: { reason: 'wrong_type' }, hint });

/** DuckDB types of values that are not one string or number: objects, lists, maps, unions. */
const NESTED = /^(STRUCT|MAP|UNION)\(|\]$/;

/**
 * The join keys of the entity rows in `raw` read as text, with the expression reading each: a
 * column DuckDB typed JSON, because its values mix JSON types (`1`, `"u1"`, `true`) — each value
 * the text a column of one type gives (`->> '$'`), not its JSON (`"u1"` with quotes, which no
 * entity has). Refuses a join key that holds an object or a list, naming its first row: no
 * entity has such a key, and the export would give it empty features.
 */
async function joinKeysAsText(
  client: DuckDBClient,
  raw: string,
  columns: readonly { name: string; type: string }[],
  joinKeys: readonly string[],
  where: string,
): Promise<ColumnRead[]> {
  const asText: ColumnRead[] = [];
  for (const key of joinKeys) {
    const type = columns.find((c) => c.name === key)!.type;
    const k = ident(key);
    const nested = NESTED.test(type)
      ? `${k} IS NOT NULL`
      : type === 'JSON'
        ? `json_type(${k}) IN ('OBJECT', 'ARRAY')`
        : undefined;
    if (nested === undefined) continue;
    const first = await firstRowWhere(client, raw, `CAST(${k} AS VARCHAR)`, nested);
    if (first !== undefined)
      throw wrongType(
        `${where}, row ${first.row}: ${key} ${first.value} is not a string or a number`,
        `write each join key as a string or a number (e.g. "${key}": "u1"), not an object or a list`,
      );
    // JSON: each value's text; a nested type with only nulls: text nulls, as a CSV column's.
    asText.push({ key, expr: type === 'JSON' ? `${k} ->> '$'` : 'NULL::VARCHAR', type: 'VARCHAR' });
  }
  return asText;
}

/** DuckDB types of numbers read from JSON (or Parquet) entity rows. */
const NUMERIC =
  /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL\(.*\))$/;
/** ±(2^53 − 1): the integers every path reads exactly (`INT64_EXACT_MAX`). */
const EXACT = 9007199254740991;

/**
 * The join keys read as their entity's declared type, so a key's value does not depend on how it
 * is spelled or on the other rows (DuckDB types a JSON column DOUBLE when one value has a
 * fraction or an exponent, and `1` then reads as `1.0`): the rule of `POST
 * /get-online-features`, pushes and the stream, which read JSON numbers by value.
 * - int64: a number, or text of one (CSV), with an integer value within ±(2^53 − 1): `1.0`,
 *   `1e0` → 1, `1e3` → 1000, `-0` → 0; anything else (`1.5`, 2^53 + 1, `"u1"`) is refused with
 *   its row (`wrong_type`).
 * - float64: a number or its text, by value (`-0` → 0); anything else refused.
 * - string: text as it is (CSV `1.0` stays "1.0"); a JSON number is its value's shortest
 *   decimal as JavaScript writes it (`1.0`, `1e0` → "1", `1e3` → "1000", `-0` → "0", `1.5` →
 *   "1.5", `1e-6` → "0.000001", `1e-7` → "1e-7": {@link jsNumberText}), an integer
 *   beyond ±(2^53 − 1) refused (quote it).
 * Objects and lists are refused for every type ({@link joinKeysAsText} first).
 */
async function joinKeysAsDeclared(
  client: DuckDBClient,
  raw: string,
  columns: readonly { name: string; type: string }[],
  joinKeys: readonly string[],
  where: string,
  keyTypes: ReadonlyMap<string, ValueType>,
): Promise<ColumnRead[]> {
  const text = await joinKeysAsText(client, raw, columns, joinKeys, where);
  const out: ColumnRead[] = [];
  for (const key of joinKeys) {
    const declared = keyTypes.get(key);
    const colType = columns.find((c) => c.name === key)!.type;
    const asText = text.find((t) => t.key === key);
    const k = ident(key);
    const isJson = colType === 'JSON';
    const numeric = NUMERIC.test(colType);
    if (declared === undefined || (declared === 'string' && !numeric && !isJson)) {
      if (asText) out.push(asText);
      continue;
    }
    if (declared !== 'int64' && declared !== 'float64' && declared !== 'string') {
      if (asText) out.push(asText);
      continue;
    }
    // The key's value as a DOUBLE, or NULL when it is not a number (text, a boolean, a null).
    const num = isJson
      ? `(CASE WHEN json_type(${k}) IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'HUGEINT') THEN TRY_CAST(${k} ->> '$' AS DOUBLE) END)`
      : numeric
        ? `CAST(${k} AS DOUBLE)`
        : colType === 'VARCHAR'
          ? `TRY_CAST(trim(${k}) AS DOUBLE)`
          : 'NULL::DOUBLE';
    const integral = `(${num} = trunc(${num}) AND abs(${num}) <= ${EXACT})`;
    let valid: string;
    let expr: string;
    let type: string;
    let hint: string;
    if (declared === 'int64') {
      valid = integral;
      expr = `CAST(${num} AS BIGINT)`;
      type = 'BIGINT';
      hint = `write ${key} as an integer within ±${EXACT} (its entity's key type is int64)`;
    } else if (declared === 'float64') {
      valid = `(${num} IS NOT NULL AND isfinite(${num}))`;
      expr = `(${num} + 0.0)`;
      type = 'DOUBLE';
      hint = `write ${key} as a number (its entity's key type is float64)`;
    } else {
      // A string key holding numbers: each number as its value's decimal; other JSON values
      // (text, booleans) as their text.
      const other = isJson ? `${k} ->> '$'` : `CAST(${k} AS VARCHAR)`;
      valid = `(${num} IS NULL OR ${integral} OR ${num} <> trunc(${num}))`;
      expr = `(CASE WHEN ${num} IS NULL THEN ${other} WHEN ${integral} THEN CAST(CAST(${num} AS BIGINT) AS VARCHAR) ELSE ${jsNumberText(num)} END)`;
      type = 'VARCHAR';
      hint = `write ${key} as a string (its entity's key type is string): an integer beyond ±${EXACT} is not read exactly on every path`;
    }
    const bad = await firstRowWhere(
      client,
      raw,
      isJson ? `${k} ->> '$'` : `CAST(${k} AS VARCHAR)`,
      `${k} IS NOT NULL AND NOT coalesce(${valid}, false)`,
    );
    if (bad !== undefined)
      throw wrongType(
        `${where}, row ${bad.row}: join key ${key} ${bad.value} is not ${declared === 'int64' ? 'an int64' : `a ${declared}`}`,
        hint,
      );
    out.push({ key, expr, type });
  }
  return out;
}

/**
 * SQL for a DOUBLE's text as JavaScript's `String(x)` writes it (ECMAScript Number::toString):
 * DuckDB's cast gives the same shortest digits but its own layout — `1e-05` and `1e-06` where
 * JavaScript writes `0.00001` and `0.000001`, `1e-07` for `1e-7`. From DuckDB's text: digits
 * `d`, decimal exponent `e`; plain when −7 < e < 21, else `d[.ddd]e±|e|`. Used for a `string`
 * join key written as a JSON number, which the source holds as that text.
 */
function jsNumberText(x: string): string {
  const s = `CAST(${x} AS VARCHAR)`;
  const m = `split_part(${s}, 'e', 1)`;
  const e = `CAST(split_part(${s}, 'e', 2) AS INTEGER)`;
  const sign = `(CASE WHEN ${x} < 0 THEN '-' ELSE '' END)`;
  const digits = `replace(replace(${m}, '-', ''), '.', '')`;
  return (
    `(CASE WHEN NOT contains(${s}, 'e') THEN ${s}` +
    ` WHEN ${e} >= 21 OR ${e} <= -7 THEN ${m} || 'e' || (CASE WHEN ${e} > 0 THEN '+' ELSE '-' END) || CAST(abs(${e}) AS VARCHAR)` +
    ` WHEN ${e} < 0 THEN ${sign} || '0.' || repeat('0', -${e} - 1) || ${digits}` +
    ` WHEN length(${digits}) <= ${e} + 1 THEN ${sign} || ${digits} || repeat('0', ${e} + 1 - length(${digits}))` +
    ` ELSE ${sign} || substr(${digits}, 1, ${e} + 1) || '.' || substr(${digits}, ${e} + 2) END)`
  );
}

/** A request field of the exported on-demand views: a column of the entity rows. */
export interface RequestFieldColumn {
  name: string;
  type: ValueType;
}

/** A column of the entity rows read through `expr` (of DuckDB type `type`) instead of as is. */
interface ColumnRead {
  key: string;
  expr: string;
  type: string;
}

/**
 * Request fields of a scalar type whose column holds another type — text, as every CSV column
 * does, or JSON values of mixed types — read as their declared type (`TRY_CAST`), so the
 * transform gets a float64 as a number from a CSV file as it does from JSON or a request.
 * Refuses a value that is not of the type (`"abc"` for a float64), naming its row, as a request
 * with it is refused.
 */
async function requestFieldsAsDeclared(
  client: DuckDBClient,
  raw: string,
  columns: readonly { name: string; type: string }[],
  fields: readonly RequestFieldColumn[],
  where: string,
): Promise<ColumnRead[]> {
  const out: ColumnRead[] = [];
  for (const f of fields) {
    if (isListType(f.type)) continue;
    const target = sqlValueType(f.type);
    const type = columns.find((c) => c.name === f.name)!.type;
    if (type === target) continue;
    const k = ident(f.name);
    const expr = `TRY_CAST(${type === 'JSON' ? `${k} ->> '$'` : k} AS ${target})`;
    const bad = await firstRowWhere(
      client,
      raw,
      `CAST(${k} AS VARCHAR)`,
      `${k} IS NOT NULL AND ${expr} IS NULL`,
    );
    if (bad !== undefined)
      throw wrongType(
        `${where}, row ${bad.row}: request field ${f.name} ${JSON.stringify(bad.value)} is not a ${f.type}`,
        `write ${f.name} as a ${f.type}, or leave it empty for null`,
      );
    out.push({ key: f.name, expr, type: target });
  }
  return out;
}

/**
 * Refuses numeric entity timestamps that are all implausible as milliseconds (before 1973 or
 * after 2500): seconds or microseconds read in the wrong unit would export empty features.
 */
async function checkTimestampUnit(
  client: DuckDBClient,
  table: string,
  tsType: string,
  where: string,
): Promise<void> {
  // Every row plausible as milliseconds (the common case): so are the numeric ones, nothing to
  // refuse — one scan of the typed __t instead of testing each row's text for a number.
  const [all] = (await client.all(`SELECT min(__t) AS lo, max(__t) AS hi FROM ${table}`)) as [
    { lo: number | bigint | null; hi: number | bigint | null },
  ];
  if (all.lo === null || (Number(all.lo) >= PLAUSIBLE_MS.from && Number(all.hi) <= PLAUSIBLE_MS.to))
    return;
  const isNumber = timestampIsNumberExpr(tsType);
  const [r] = (await client.all(
    `SELECT count(*) AS n, min(__t) AS lo, max(__t) AS hi, arg_min(CAST(${ident(TIMESTAMP_COLUMN)} AS VARCHAR), __rid) AS example FROM ${table} WHERE ${isNumber}`,
  )) as [{ n: number; lo: number | null; hi: number | null; example: string | null }];
  if (Number(r.n) === 0 || r.lo === null || r.hi === null) return;
  const lo = Number(r.lo);
  const hi = Number(r.hi);
  const unit = hi < PLAUSIBLE_MS.from ? 's' : lo > PLAUSIBLE_MS.to ? 'us' : undefined;
  if (unit === undefined) return;
  const example = String(r.example);
  throw new LarderError(
    'LARDER_BAD_REQUEST',
    `${where}: every numeric ${TIMESTAMP_COLUMN} lies ${unit === 's' ? 'before 1973' : 'after 2500'} when read as epoch milliseconds (${example} → ${isoOrBeyond(Number(example.split('.')[0]))}); they look like epoch ${unit === 's' ? 'seconds' : 'microseconds'}`,
    {
      detail: { reason: 'suspect_time_unit' },
      hint: `pass --timestamp-unit ${unit} (timestampUnit: '${unit}' in the export API), or --timestamp-unit ms if they really are milliseconds`,
    },
  );
}

/** An epoch ms as ISO-8601, or where it lies beyond JavaScript's dates (±8.64e15 ms). */
const isoOrBeyond = (ms: number): string => {
  const d = new Date(ms);
  return Number.isNaN(d.getTime())
    ? `beyond the year ${ms > 0 ? '275760' : '-271821'}`
    : d.toISOString();
};

/**
 * The BigQuery store's append path: DML into the batch source's table
 * (`<project>.<dataset>.<source.bigqueryTable>`), created from the source schema when missing,
 * with three more columns added when missing: `_larder_origin STRING`, `_larder_offset INT64`,
 * `_larder_ingested_at INT64` (epoch ms).
 *
 * Exactly once per (origin, offset): each statement is
 * `INSERT INTO t (…) SELECT … FROM UNNEST([…]) AS r WHERE r._larder_offset >
 * (SELECT IFNULL(MAX(_larder_offset), -1) FROM t WHERE _larder_origin = '<origin>')` — the
 * high-water mark is read inside the statement that inserts, and a DML statement is atomic
 * (all its rows or none). A replay after a crash, whether the statement committed or not,
 * inserts exactly what is missing. Records go in ascending offsets, in statements of at most
 * {@link MAX_STATEMENT_CHARS} characters, so a crash between two statements leaves a prefix.
 * Why DML rather than `insertAll` or load jobs: docs/operations.md.
 */
import { LarderError } from '../../core/errors.ts';
import type { FieldType, RecordType } from '../../definitions/record-schema.ts';
import type { BatchSourceSpec } from '../../definitions/spec.ts';
import type { BigQueryClientLike } from '../bigquery/bigquery-client.ts';
import type { AppendRequest, AppendResult } from '../offline-store.ts';
import {
  checkAscending,
  INGESTED_AT_FIELD,
  OFFSET_FIELD,
  ORIGIN_FIELD,
  originId,
} from './append-origin.ts';

/** BigQuery takes queries up to 1 024 K characters; statements stay well under. */
export const MAX_STATEMENT_CHARS = 512 * 1024;

const ident = (name: string): string => `\`${name.replaceAll('`', '')}\``;

/** The BigQuery type of a source field (maps are repeated key/value records). */
export function bqType(f: FieldType): string {
  switch (f.kind) {
    case 'string':
      return 'STRING';
    case 'int64':
      return 'INT64';
    case 'float64':
      return 'FLOAT64';
    case 'bool':
      return 'BOOL';
    case 'map':
      return `ARRAY<STRUCT<key STRING, value ${bqType(f.values)}>>`;
    case 'array':
      return `ARRAY<${bqType(f.items)}>`;
    case 'record':
      return `STRUCT<${Object.entries(f.fields)
        .map(([k, v]) => `${ident(k)} ${bqType(v)}`)
        .join(', ')}>`;
  }
}

/** A GoogleSQL string literal. */
export function bqString(s: string): string {
  let out = "'";
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === "'") out += "\\'";
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}'`;
}

/** `v` (a record field read with the source schema) as a literal of type `f`. */
export function bqLiteral(f: FieldType, v: unknown): string {
  if (v === null || v === undefined) return `CAST(NULL AS ${bqType(f)})`;
  switch (f.kind) {
    case 'string':
      return bqString(String(v));
    case 'int64':
      return `CAST(${BigInt(v as number | bigint).toString()} AS INT64)`;
    case 'float64':
      return `CAST(${bqString(String(v))} AS FLOAT64)`;
    case 'bool':
      return v ? 'TRUE' : 'FALSE';
    case 'map': {
      const items = Object.entries(v as Record<string, unknown>).map(
        ([k, x]) => `STRUCT(${bqString(k)} AS key, ${bqLiteral(f.values, x)} AS value)`,
      );
      return `CAST([${items.join(', ')}] AS ${bqType(f)})`;
    }
    case 'array':
      return `CAST([${(v as unknown[]).map((x) => bqLiteral(f.items, x)).join(', ')}] AS ${bqType(f)})`;
    case 'record':
      return `STRUCT(${Object.entries(f.fields)
        .map(([k, sub]) => `${bqLiteral(sub, (v as Record<string, unknown>)[k])} AS ${ident(k)}`)
        .join(', ')})`;
  }
}

export interface BigQueryAppenderOptions {
  client: () => BigQueryClientLike;
  project: string;
  dataset: string;
  clock?: () => number;
}

export class BigQueryAppender {
  readonly #o: BigQueryAppenderOptions;
  readonly #clock: () => number;
  /** Tables made ready (created, metadata columns added) by this process. */
  readonly #ready = new Map<string, Promise<void>>();

  constructor(options: BigQueryAppenderOptions) {
    this.#o = options;
    this.#clock = options.clock ?? Date.now;
  }

  /** `project.dataset.table` of the source. */
  location(source: BatchSourceSpec): string {
    return this.#table(source);
  }

  #table(source: BatchSourceSpec): string {
    return `${this.#o.project}.${this.#o.dataset}.${source.bigqueryTable}`;
  }

  async #run(sql: string): Promise<void> {
    try {
      const read = await this.#o.client().query(sql);
      await read(null, 1);
    } catch (e) {
      if (e instanceof LarderError) throw e;
      throw new LarderError(
        'LARDER_STORE_UNAVAILABLE',
        `BigQuery append failed: ${e instanceof Error ? e.message : String(e)}`,
        { cause: e },
      );
    }
  }

  /** Creates the table from the source schema when missing; adds the metadata columns. */
  #prepare(source: BatchSourceSpec): Promise<void> {
    const table = this.#table(source);
    let p = this.#ready.get(table);
    if (!p) {
      p = (async () => {
        const schema: RecordType = source.schema;
        const cols = Object.entries(schema.fields).map(([k, f]) => `${ident(k)} ${bqType(f)}`);
        await this.#run(`CREATE TABLE IF NOT EXISTS ${ident(table)} (${cols.join(', ')})`);
        for (const [c, t] of [
          [ORIGIN_FIELD, 'STRING'],
          [OFFSET_FIELD, 'INT64'],
          [INGESTED_AT_FIELD, 'INT64'],
        ] as const)
          await this.#run(`ALTER TABLE ${ident(table)} ADD COLUMN IF NOT EXISTS ${c} ${t}`);
      })();
      this.#ready.set(table, p);
      p.catch(() => this.#ready.delete(table));
    }
    return p;
  }

  async append(req: AppendRequest): Promise<AppendResult> {
    checkAscending(req.records);
    const table = this.#table(req.source);
    if (req.records.length === 0) return { appended: 0, skipped: 0, location: table };
    const prepared = this.#ready.has(table);
    await this.#prepare(req.source);
    try {
      return await this.#append(req, table);
    } catch (e) {
      if (!prepared) throw e;
      // The table may have been replaced since this process prepared it: prepare it again
      // (the statements are idempotent, so retrying what may have committed is safe).
      this.#ready.delete(table);
      await this.#prepare(req.source);
      return this.#append(req, table);
    }
  }

  async #append(req: AppendRequest, table: string): Promise<AppendResult> {
    const id = originId(req.origin);
    // The mark before: what this append will skip (the statements re-check it atomically).
    const mark = await this.#mark(table, id);
    const fresh = req.records.filter((r) => r.offset > mark);
    if (fresh.length === 0) return { appended: 0, skipped: req.records.length, location: table };
    const fields = Object.entries(req.source.schema.fields);
    const columns = [
      ...fields.map(([k]) => ident(k)),
      ORIGIN_FIELD,
      OFFSET_FIELD,
      INGESTED_AT_FIELD,
    ];
    const now = req.ingestedAt ?? this.#clock();
    const head = `INSERT INTO ${ident(table)} (${columns.join(', ')}) SELECT ${columns.map((c) => `r.${c}`).join(', ')} FROM UNNEST([`;
    const tail = `]) AS r WHERE r.${OFFSET_FIELD} > (SELECT IFNULL(MAX(${OFFSET_FIELD}), -1) FROM ${ident(table)} WHERE ${ORIGIN_FIELD} = ${bqString(id)})`;
    let rows: string[] = [];
    let size = head.length + tail.length;
    const flush = async (): Promise<void> => {
      if (rows.length === 0) return;
      await this.#run(head + rows.join(', ') + tail);
      rows = [];
      size = head.length + tail.length;
    };
    for (const { offset, record } of fresh) {
      const values = fields.map(([k, f]) => `${bqLiteral(f, record[k])} AS ${ident(k)}`);
      const row = `STRUCT(${values.join(', ')}, ${bqString(id)} AS ${ORIGIN_FIELD}, CAST(${offset} AS INT64) AS ${OFFSET_FIELD}, CAST(${now} AS INT64) AS ${INGESTED_AT_FIELD})`;
      if (rows.length > 0 && size + row.length + 2 > MAX_STATEMENT_CHARS) await flush();
      rows.push(row);
      size += row.length + 2;
    }
    await flush();
    return {
      appended: fresh.length,
      skipped: req.records.length - fresh.length,
      location: table,
    };
  }

  /** The origin's high-water mark in the table (-1: none). */
  async #mark(table: string, id: string): Promise<number> {
    const rows = await this.#select(
      `SELECT IFNULL(MAX(${OFFSET_FIELD}), -1) AS m FROM ${ident(table)} WHERE ${ORIGIN_FIELD} = ${bqString(id)}`,
    );
    return Number(rows[0]?.m ?? -1);
  }

  async #select(sql: string): Promise<Record<string, unknown>[]> {
    try {
      const read = await this.#o.client().query(sql);
      return (await read(null, 1000)).rows;
    } catch (e) {
      throw new LarderError(
        'LARDER_STORE_UNAVAILABLE',
        `BigQuery append failed: ${e instanceof Error ? e.message : String(e)}`,
        { cause: e },
      );
    }
  }

  /** The earliest event time of rows appended at or after `since`; null when none (or no table). */
  async earliestSince(source: BatchSourceSpec, since: number): Promise<number | null> {
    const table = this.#table(source);
    let cols: { name: string }[];
    try {
      cols = await this.#o.client().querySchema(`SELECT * FROM ${ident(table)} LIMIT 0`);
    } catch (e) {
      // No table: nothing was appended. Any other failure must not read as "nothing late".
      if ((e as { code?: unknown }).code === 404 || /not found/i.test(String(e))) return null;
      throw new LarderError(
        'LARDER_STORE_UNAVAILABLE',
        `BigQuery: cannot read ${table}: ${e instanceof Error ? e.message : String(e)}`,
        { cause: e },
      );
    }
    if (!cols.some((c) => c.name === INGESTED_AT_FIELD)) return null;
    const rows = await this.#select(
      `SELECT MIN(${ident(source.timestampField)}) AS t FROM ${ident(table)} WHERE ${INGESTED_AT_FIELD} >= ${since}`,
    );
    const t = rows[0]?.t;
    return t === null || t === undefined ? null : Number(t);
  }
}

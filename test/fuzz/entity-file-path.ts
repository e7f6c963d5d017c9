/**
 * The export from an entity *file* (`larder export --entities`): the case's export rows written
 * as CSV (any of the four delimiters, quoting only where needed or everywhere), JSON Lines or
 * Parquet, with the quirks files have — a UTF-8 byte-order mark, CRLF line ends, blank lines,
 * times as epoch ms, ISO-8601 in UTC or with an offset, or typed (Parquet TIMESTAMP) — exported
 * by the sweep engine and compared with the reference as the in-memory rows are. The keys are
 * the key pool's (separators, quotes, line breaks, NUL, the empty string …).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBOfflineStore } from '../../offline/duckdb/duckdb-offline-store.ts';
import type { Repository } from '../../definitions/repository.ts';
import type { EntityRow } from '../../reference/index.ts';
import {
  acceptedCase,
  entityRows,
  features,
  mismatch,
  referenceValues,
  sameFeatureValue,
  type Mismatch,
} from './differential.ts';
import type { FuzzCase } from './fuzz-case.ts';
import type { EntityFilePlan } from './entity-file-plan.ts';

/** ISO-8601 of `t` at UTC+05:30 or UTC−08:00 (by the parity of `t`): the same instant. */
function withOffset(t: number): string {
  const [minutes, sign] = t % 2 === 0 ? [330, '+'] : [-480, '-'];
  const local = new Date(t + minutes * 60_000).toISOString().slice(0, -1);
  const abs = Math.abs(minutes);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

const timeText = (t: number, plan: EntityFilePlan): string | number =>
  plan.time === 'epoch' ? t : plan.time === 'offset' ? withOffset(t) : new Date(t).toISOString();

/** Writes `rows` as the plan's file in `dir`; returns its path. */
export async function writeEntityFile(
  dir: string,
  name: string,
  rows: readonly EntityRow[],
  plan: EntityFilePlan,
  request: 'float64' | 'string' | null,
): Promise<string> {
  const columns = ['user_id', 'product_id', 'event_timestamp', ...(request ? ['req'] : [])];
  const nl = plan.crlf ? '\r\n' : '\n';
  const bom = plan.bom ? '\ufeff' : '';
  const gap = plan.blankLines ? nl : '';
  if (plan.format === 'jsonl' || plan.format === 'parquet') {
    const lines = rows.map((r) =>
      JSON.stringify({
        ...r,
        event_timestamp: timeText(r.event_timestamp, plan),
      }),
    );
    if (plan.format === 'jsonl') {
      const path = join(dir, `${name}.jsonl`);
      writeFileSync(path, `${bom}${lines.join(`${nl}${gap}`)}${nl}`);
      return path;
    }
    // Parquet: typed columns, written by DuckDB from the rows as JSON Lines.
    const json = join(dir, `${name}.parquet-input.jsonl`);
    writeFileSync(json, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const path = join(dir, `${name}.parquet`);
    const ts =
      plan.time === 'epoch'
        ? 'event_timestamp'
        : plan.time === 'typed'
          ? 'make_timestamp(event_timestamp * 1000)'
          : `strftime(make_timestamp(event_timestamp * 1000), '%Y-%m-%dT%H:%M:%S.%gZ')`;
    const types = `user_id: 'VARCHAR', product_id: 'VARCHAR', event_timestamp: 'BIGINT'${request ? `, req: '${request === 'float64' ? 'DOUBLE' : 'VARCHAR'}'` : ''}`;
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    try {
      await conn.run(
        `COPY (SELECT user_id, product_id, ${ts} AS event_timestamp${request ? ', req' : ''} FROM read_json('${json}', format = 'newline_delimited', columns = {${types}})) TO '${path}' (FORMAT parquet)`,
      );
    } finally {
      conn.closeSync();
      db.closeSync();
    }
    return path;
  }
  const d = plan.delimiter;
  const field = (v: unknown): string => {
    if (v === null || v === undefined) return '';
    const s = String(v);
    return plan.quoteAll || s === '' || s.includes(d) || /["\r\n]/.test(s)
      ? `"${s.replaceAll('"', '""')}"`
      : s;
  };
  const line = (values: unknown[]): string => values.map(field).join(d);
  const body = rows.map((r) =>
    line([r.user_id, r.product_id, timeText(r.event_timestamp, plan), ...(request ? [r.req] : [])]),
  );
  const path = join(dir, `${name}.csv`);
  writeFileSync(path, `${bom}${line(columns)}${nl}${body.join(`${nl}${gap}`)}${nl}`);
  return path;
}

/** The export from the case's rows written as `c.entityFile` vs the reference. */
export async function checkExportFromFile(
  path: string,
  dir: string,
  store: DuckDBOfflineStore,
  repo: Repository,
  c: FuzzCase,
): Promise<Mismatch[]> {
  const plan = c.entityFile;
  if (!plan) return [];
  const rows = entityRows(c, c.exportRows);
  const file = await writeEntityFile(dir, 'entities', rows, plan, c.onDemand?.request ?? null);
  const got = await store.exportPointInTime({
    repo,
    features: features(repo),
    entities: { type: 'file', path: file },
    out: { type: 'memory' },
    fullFeatureNames: true,
  });
  const out: Mismatch[] = [];
  if (got.data!.length !== rows.length)
    out.push({ path, feature: '(rows)', key: '', t: 0, got: got.data!.length, want: rows.length });
  const accepted = acceptedCase(c);
  const want = referenceValues(repo, accepted, rows);
  rows.forEach((row, i) => {
    const data = got.data![i] ?? {};
    for (const k of ['user_id', 'product_id'] as const)
      if (data[k] !== row[k])
        out.push({
          path,
          feature: k,
          key: String(row[k]),
          t: row.event_timestamp,
          got: data[k],
          want: row[k],
        });
    for (const [k, v] of Object.entries(want[i]!)) {
      const value = data[k] ?? null;
      if (!sameFeatureValue(repo, accepted, k, row, value, v))
        out.push(mismatch(path, repo, k, row, value, v));
    }
  });
  return out;
}

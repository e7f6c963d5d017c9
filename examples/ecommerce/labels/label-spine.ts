/**
 * The ranker's labelled spine, built from raw history with DuckDB: one row per product page
 * view `(user_id, product_id, event_timestamp = t)` of a logged-in user, `label = 1` when the
 * same user added that product to the cart or bought it (a purchase event, or a completed
 * transaction containing it) in `(t, t + horizon]`. The features of each row come later from
 * `larder export`, point-in-time at t, so no feature sees anything after the view.
 */
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { LarderError } from '../../../core/errors.ts';
import { HOUR_MS } from '../../../core/duration.ts';

export interface LabelOptions {
  /** Folder of the user_events batch source (JSONL / Parquet files). */
  eventsDir: string;
  /** Folder of the transactions batch source. */
  transactionsDir: string;
  out: string;
  horizonMs?: number;
  start?: number;
  end?: number;
  /** Keep at most this many rows (deterministic sample by hash of the row), 0 = all. */
  limit?: number;
}

export interface LabelSummary {
  rows: number;
  positives: number;
  seconds: number;
  out: string;
}

const q = (s: string): string => `'${s.replaceAll("'", "''")}'`;

/** A DuckDB table expression over every `.jsonl` / `.parquet` file of a folder. */
function scan(dir: string, columns: string): string {
  if (!existsSync(dir))
    throw new LarderError('LARDER_NOT_FOUND', `no raw data folder ${dir}`, {
      hint: 'run `larder gen-data` or point LARDER_DATA_DIR at your data',
    });
  const files = readdirSync(dir);
  const parts: string[] = [];
  if (files.some((f) => f.endsWith('.jsonl'))) {
    parts.push(
      `SELECT * FROM read_json(${q(join(dir, '*.jsonl'))}, format='newline_delimited', ignore_errors=true, columns={${columns}})`,
    );
  }
  if (files.some((f) => f.endsWith('.parquet')))
    parts.push(`SELECT ${columnNames(columns)} FROM read_parquet(${q(join(dir, '*.parquet'))})`);
  if (parts.length === 0)
    throw new LarderError('LARDER_NOT_FOUND', `no .jsonl or .parquet files in ${dir}`);
  return `(${parts.join(' UNION ALL ')})`;
}

const columnNames = (columns: string): string =>
  columns
    .split(/,(?![^()]*\))/)
    .map((c) => c.split(':')[0]!.trim())
    .join(', ');

function copyFormat(out: string): string {
  switch (extname(out)) {
    case '.parquet':
      return '(FORMAT parquet)';
    case '.csv':
      return '(FORMAT csv, HEADER true)';
    case '.jsonl':
    case '.json':
      return '(FORMAT json)';
    default:
      throw new LarderError('LARDER_BAD_REQUEST', `cannot write ${out}: unknown extension`, {
        hint: 'use .parquet, .csv or .jsonl',
        detail: { reason: 'unsupported_format' },
      });
  }
}

export async function buildLabelSpine(o: LabelOptions): Promise<LabelSummary> {
  const started = Date.now();
  const horizon = o.horizonMs ?? HOUR_MS;
  const out = resolve(o.out);
  const format = copyFormat(out);
  const events = scan(
    o.eventsDir,
    "userId: 'VARCHAR', eventType: 'VARCHAR', timestamp: 'BIGINT', properties: 'MAP(VARCHAR, VARCHAR)'",
  );
  const txs = scan(
    o.transactionsDir,
    "userId: 'VARCHAR', status: 'VARCHAR', timestamp: 'BIGINT', orderItems: 'STRUCT(productId VARCHAR, quantity INTEGER, price DOUBLE, category VARCHAR)[]'",
  );
  const range = [
    o.start !== undefined ? `ts >= ${o.start}` : '',
    o.end !== undefined ? `ts <= ${o.end}` : '',
  ].filter(Boolean);
  const limit = o.limit
    ? `ORDER BY hash(user_id, product_id, event_timestamp) LIMIT ${o.limit}`
    : '';
  mkdirSync(dirname(out), { recursive: true });
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  try {
    await c.run(`
      CREATE TEMP TABLE ev AS
        SELECT userId AS u, properties['productId'] AS p, eventType AS e, timestamp AS ts
        FROM ${events} WHERE userId IS NOT NULL AND properties['productId'] IS NOT NULL;
      CREATE TEMP TABLE pos AS
        SELECT u, p, ts FROM ev WHERE e IN ('add_to_cart', 'purchase')
        UNION
        SELECT userId, item.productId, timestamp FROM (SELECT userId, timestamp, unnest(orderItems) AS item FROM ${txs} WHERE status = 'completed');
      CREATE TEMP TABLE spine AS
        SELECT v.u AS user_id, v.p AS product_id, v.ts AS event_timestamp,
               CASE WHEN n.ts IS NOT NULL AND n.ts <= v.ts + ${horizon} THEN 1 ELSE 0 END AS label
        FROM (SELECT u, p, ts FROM ev WHERE e = 'page_view' ${range.length ? `AND ${range.join(' AND ')}` : ''}) v
        ASOF LEFT JOIN pos n ON v.u = n.u AND v.p = n.p AND n.ts > v.ts;
      COPY (SELECT * FROM (SELECT * FROM spine ${limit}) ORDER BY event_timestamp, user_id, product_id) TO ${q(out)} ${format};
    `);
    const r = await c.runAndReadAll(
      `SELECT count(*)::BIGINT AS n, coalesce(sum(label), 0)::BIGINT AS pos FROM (SELECT * FROM spine ${limit})`,
    );
    const row = r.getRowObjects()[0] as { n: bigint; pos: bigint };
    return {
      rows: Number(row.n),
      positives: Number(row.pos),
      seconds: (Date.now() - started) / 1000,
      out,
    };
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

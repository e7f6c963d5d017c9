/**
 * Reads a service's logged rows back from the BigQuery log table (monitoring/bigquery-log-sink.ts)
 * for `larder skew`, as `readLoggedRows` reads them from Parquet.
 */
import { LarderError } from '../core/errors.ts';
import { bqString } from '../offline/append/bigquery-append.ts';
import { logTableSql, type LogTableClient, type LogTableLocation } from './bigquery-log-sink.ts';
import type { LoggedRow } from './feature-log.ts';

/**
 * The logged rows of `service` with `start ≤ ts < end`, ordered by read time, request and row;
 * none when the table does not exist yet.
 *
 * @example
 * const rows = await readBigQueryLoggedRows(client, logTableOf(store), 'recommendation_v1', start, end);
 */
export async function readBigQueryLoggedRows(
  client: LogTableClient,
  table: LogTableLocation,
  service: string,
  start: number,
  end: number,
): Promise<LoggedRow[]> {
  let rows: Record<string, unknown>[];
  try {
    rows = await client.query(
      `SELECT request_id, \`row\`, UNIX_MILLIS(ts) AS t, entities, features, statuses
       FROM ${logTableSql(table)}
       WHERE service = ${bqString(service)}
         AND ts >= TIMESTAMP_MILLIS(${Math.trunc(start)}) AND ts < TIMESTAMP_MILLIS(${Math.trunc(end)})
       ORDER BY t, request_id, \`row\``,
    );
  } catch (e) {
    // No table yet: nothing was logged.
    if ((e as { code?: unknown }).code === 404) return [];
    throw new LarderError(
      'LARDER_STORE_UNAVAILABLE',
      `BigQuery: cannot read the feature log ${table.project}.${table.dataset}.${table.table}: ${e instanceof Error ? e.message : String(e)}`,
      { cause: e },
    );
  }
  return rows.map((r) => ({
    requestId: String(r.request_id),
    row: Number(r.row),
    t: Number(r.t),
    entities: JSON.parse(String(r.entities)) as Record<string, unknown>,
    values: JSON.parse(String(r.features)) as Record<string, unknown>,
    statuses: JSON.parse(String(r.statuses)) as Record<string, string>,
  }));
}

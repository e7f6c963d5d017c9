/**
 * The slice of `@google-cloud/bigquery` the offline store uses (STYLE.md §4): query jobs read
 * page by page, a load job from a local file, and dropping a table. Tests can pass a fake.
 */
import { BigQuery } from '@google-cloud/bigquery';

export interface QueryResultsPage {
  rows: Record<string, unknown>[];
  pageToken: string | null;
}

export interface BigQueryClientLike {
  /** Starts a Standard SQL query job and returns a page reader. */
  query(
    sql: string,
  ): Promise<(pageToken: string | null, maxResults: number) => Promise<QueryResultsPage>>;
  /** Loads a local newline-delimited JSON file into `dataset.table` (replacing it). */
  loadJsonl(table: string, file: string, fields: BqField[]): Promise<void>;
  /** Creates `dataset.table` and streams rows into it (`tabledata.insertAll`, in chunks). */
  insertRows(table: string, fields: BqField[], rows: Record<string, unknown>[]): Promise<void>;
  dropTable(table: string): Promise<void>;
  /** Runs a query job and returns its result columns (name, BigQuery type); no rows are read. */
  querySchema(sql: string): Promise<{ name: string; type: string }[]>;
}

export interface BqField {
  name: string;
  type: 'STRING' | 'INT64' | 'FLOAT64' | 'BOOL';
}

/** A {@link BigQueryClientLike} over the real client library. */
export function createBigQueryClient(opts: {
  project: string;
  dataset: string;
  location?: string;
  apiEndpoint?: string;
}): BigQueryClientLike {
  const bq = new BigQuery({
    projectId: opts.project,
    ...(opts.location ? { location: opts.location } : {}),
    ...(opts.apiEndpoint ? { apiEndpoint: opts.apiEndpoint } : {}),
  });
  const dataset = bq.dataset(opts.dataset);
  return {
    async query(sql) {
      const [job] = await bq.createQueryJob({
        query: sql,
        useLegacySql: false,
        ...(opts.location ? { location: opts.location } : {}),
      });
      return async (pageToken, maxResults) => {
        const [rows, next] = await job.getQueryResults({
          autoPaginate: false,
          maxResults,
          ...(pageToken ? { pageToken } : {}),
        });
        return {
          rows: rows as Record<string, unknown>[],
          pageToken: (next as { pageToken?: string } | null | undefined)?.pageToken ?? null,
        };
      };
    },
    async querySchema(sql) {
      const [job] = await bq.createQueryJob({
        query: sql,
        useLegacySql: false,
        ...(opts.location ? { location: opts.location } : {}),
      });
      const [, , response] = await job.getQueryResults({ autoPaginate: false, maxResults: 0 });
      const fields = (response as { schema?: { fields?: { name: string; type: string }[] } })
        ?.schema?.fields;
      return (fields ?? []).map((f) => ({ name: f.name, type: f.type }));
    },
    async loadJsonl(table, file, fields) {
      await dataset.table(table).load(file, {
        sourceFormat: 'NEWLINE_DELIMITED_JSON',
        schema: { fields },
        writeDisposition: 'WRITE_TRUNCATE',
      });
    },
    async insertRows(table, fields, rows) {
      const t = dataset.table(table);
      const [exists] = await t.exists();
      if (!exists) await dataset.createTable(table, { schema: { fields } });
      for (let i = 0; i < rows.length; i += 10_000) await t.insert(rows.slice(i, i + 10_000));
    },
    async dropTable(table) {
      await dataset.table(table).delete({ ignoreNotFound: true });
    },
  };
}

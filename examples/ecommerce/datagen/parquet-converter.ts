import { rm } from 'node:fs/promises';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { Topic } from './gen-data-options.ts';

/** Explicit DuckDB column types of each source, in the Avro schemas' field order. */
export const PARQUET_COLUMNS: Record<Topic, Record<string, string>> = {
  user_events: {
    eventId: 'VARCHAR',
    userId: 'VARCHAR',
    sessionId: 'VARCHAR',
    eventType: 'VARCHAR',
    timestamp: 'BIGINT',
    properties: 'MAP(VARCHAR, VARCHAR)',
    context: 'STRUCT(userAgent VARCHAR, ip VARCHAR, platform VARCHAR, referrer VARCHAR)',
  },
  transactions: {
    transactionId: 'VARCHAR',
    userId: 'VARCHAR',
    orderItems: 'STRUCT(productId VARCHAR, quantity INTEGER, price DOUBLE, category VARCHAR)[]',
    totalAmount: 'DOUBLE',
    currency: 'VARCHAR',
    paymentMethod: 'VARCHAR',
    status: 'VARCHAR',
    timestamp: 'BIGINT',
  },
};

/**
 * Converts JSON Lines parts to Parquet with DuckDB, reading with explicit column types (no
 * type inference, so every part has the same schema). The DuckDB instance is opened on first
 * use and dropped if opening fails.
 *
 * @example
 * const converter = new ParquetConverter();
 * await converter.convert('user_events', '/d/.part-00000.jsonl.tmp', '/d/part-00000.parquet');
 * await converter.close();
 */
export class ParquetConverter {
  #conn: Promise<{ instance: DuckDBInstance; conn: DuckDBConnection }> | null = null;

  /** Writes `parquetPath` from `jsonlPath`, then deletes `jsonlPath`. */
  async convert(topic: Topic, jsonlPath: string, parquetPath: string): Promise<void> {
    const { conn } = await this.#connect();
    const columns = Object.entries(PARQUET_COLUMNS[topic])
      .map(([name, type]) => `${sqlString(name)}: ${sqlString(type)}`)
      .join(', ');
    await conn.run(
      `COPY (SELECT * FROM read_json(${sqlString(jsonlPath)}, format = 'newline_delimited', ` +
        `columns = {${columns}})) TO ${sqlString(parquetPath)} (FORMAT parquet)`,
    );
    await rm(jsonlPath, { force: true });
  }

  async close(): Promise<void> {
    const pending = this.#conn;
    this.#conn = null;
    if (!pending) return;
    const { instance, conn } = await pending;
    conn.closeSync();
    instance.closeSync();
  }

  #connect(): Promise<{ instance: DuckDBInstance; conn: DuckDBConnection }> {
    this.#conn ??= (async () => {
      const { DuckDBInstance } = await import('@duckdb/node-api');
      const instance = await DuckDBInstance.create(':memory:');
      return { instance, conn: await instance.connect() };
    })().catch((err: unknown) => {
      this.#conn = null;
      throw err;
    });
    return this.#conn;
  }
}

function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

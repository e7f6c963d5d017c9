/**
 * The BigQuery store's batch ingest rules without a warehouse: `BigQueryEngine.source` reads
 * the source through the subquery of the rows the rules accept, with the store's clock at the
 * read as a literal, and reports the rows they reject as counted by one COUNTIF query. The
 * emulator conformance suite (`offline-store-conformance.ts`) runs the same rules end to end.
 */
import { describe, expect, it } from 'vitest';
import { BigQueryEngine } from '../../offline/bigquery/bigquery-engine.ts';
import type { BigQueryClientLike } from '../../offline/bigquery/bigquery-client.ts';
import { bqIngestReasonSql, bqSourceSql } from '../../offline/bigquery/sql/ingest-rules-sql.ts';
import type { DuckDBClient } from '../../offline/local/duckdb-client.ts';
import type { RejectReport } from '../../offline/offline-store.ts';
import type { BatchSourceSpec } from '../../definitions/spec.ts';
import { loadRepository } from '../../definitions/load.ts';
import { tempRepo } from '../support/temp-repo.ts';
import { CONFORMANCE_REPO } from './conformance-repo.ts';

const NOW = 1_700_000_000_000;

/** A client answering every query with one row `{ n }` and recording the SQL. */
function fakeClient(n: number): BigQueryClientLike & { sql: string[] } {
  const sql: string[] = [];
  const fail = (): Promise<never> => Promise.reject(new Error('not used'));
  return {
    sql,
    query(q) {
      sql.push(q);
      return Promise.resolve(() => Promise.resolve({ rows: [{ n: String(n) }], pageToken: null }));
    },
    loadJsonl: fail,
    insertRows: fail,
    dropTable: fail,
    querySchema: fail,
  };
}

async function evSource(): Promise<BatchSourceSpec> {
  const r = tempRepo({ 'repo.ts': CONFORMANCE_REPO });
  try {
    return (await loadRepository(r.dir)).batchSources.get('ev')!.spec;
  } finally {
    r.cleanup();
  }
}

function engine(client: BigQueryClientLike, clock: () => number): BigQueryEngine {
  return new BigQueryEngine({
    client: () => client,
    project: 'proj',
    dataset: 'ds',
    pageSize: 100,
    upload: 'insert',
    ingest: { clock, maxFutureSkewMs: 5 * 60_000 },
  });
}

describe('BigQuery batch ingest rules', () => {
  it('source(): the accepted rows at the clock of the read, the rejected ones counted per table', async () => {
    const src = await evSource();
    const client = fakeClient(3);
    let now = NOW;
    const e = engine(client, () => now);
    const rejects: RejectReport[] = [];
    const got = await e.source({} as DuckDBClient, src, new Set(), rejects);
    expect(got.table).toBe(
      '(SELECT `id`, `userId`, `kind`, `amount`, `attrs`, `ts` FROM `proj.ds.ev` WHERE `ts` IS NULL OR `ts` BETWEEN -8640000000000000 AND 1700000300000)',
    );
    expect(client.sql).toEqual([
      'SELECT COUNTIF(`ts` < -8640000000000000 OR `ts` > 1700000300000) AS n FROM `proj.ds.ev`',
    ]);
    expect(rejects).toEqual([{ source: 'ev', file: 'proj.ds.ev', count: 3, examples: [] }]);

    // The next read reads the clock again.
    now = NOW + 60_000;
    const next = await e.source({} as DuckDBClient, src, new Set(), []);
    expect(next.table).toContain('BETWEEN -8640000000000000 AND 1700000360000)');
  });

  it('source(): no report when nothing is rejected', async () => {
    const src = await evSource();
    const rejects: RejectReport[] = [];
    await engine(fakeClient(0), () => NOW).source({} as DuckDBClient, src, new Set(), rejects);
    expect(rejects).toEqual([]);
  });

  it('the reasons are the DuckDB store’s texts, out of range first', () => {
    expect(bqIngestReasonSql('ts', { now: NOW, maxFutureSkewMs: 5 * 60_000 })).toBe(
      "CASE WHEN `ts` < -8640000000000000 OR `ts` > 8640000000000000 THEN CONCAT('field \"ts\": ', CAST(`ts` AS STRING), ' is outside JavaScript\\'s date range (±8.64e15 ms)') " +
        "WHEN `ts` > 1700000300000 THEN CONCAT('field \"ts\": ', CAST(`ts` AS STRING), ' is later than now + 5m (2023-11-14T22:18:20.000Z); raise ingest.maxFutureSkew if clocks differ more') END",
    );
    expect(bqSourceSql('`p.d.t`', ['a'], 'ts', { now: 0, maxFutureSkewMs: 1000 })).toBe(
      '(SELECT `a` FROM `p.d.t` WHERE `ts` IS NULL OR `ts` BETWEEN -8640000000000000 AND 1000)',
    );
  });
});

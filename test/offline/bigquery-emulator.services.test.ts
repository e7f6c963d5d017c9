/**
 * The offline-store conformance suite against the BigQuery store, on a local emulator
 * (bqemulator from PyPI, DuckDB-backed; `bash scripts/bqemu.sh install` sets it up in
 * `.cache/py/bqemu`). Skipped, with the reason in the test name, when it is not installed.
 * Raw-record rejects do not apply to BigQuery (typed tables), so that case passes trivially;
 * the time grid, computeTiles and sourceStatistics run their queries in the emulator.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { BigQuery, type TableField } from '@google-cloud/bigquery';
import { it } from 'vitest';
import { BigQueryOfflineStore } from '../../offline/bigquery/bigquery-offline-store.ts';
import type { FieldType, RecordType } from '../../definitions/record-schema.ts';
import { tempDir } from '../support/temp-repo.ts';
import {
  describeOfflineStoreConformance,
  type ConformanceHarness,
} from './offline-store-conformance.ts';
import { describeSourceStatisticsConformance } from './source-statistics-conformance.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, '.cache/py/bqemu/bin/bqemulator');
const available = existsSync(BIN);

function bqField(name: string, f: FieldType): TableField {
  const mode = f.nullable ? 'NULLABLE' : 'REQUIRED';
  switch (f.kind) {
    case 'string':
      return { name, type: 'STRING', mode };
    case 'int64':
      return { name, type: 'INT64', mode };
    case 'float64':
      return { name, type: 'FLOAT64', mode };
    case 'bool':
      return { name, type: 'BOOL', mode };
    case 'map':
      return {
        name,
        type: 'RECORD',
        mode: 'REPEATED',
        fields: [{ name: 'key', type: 'STRING' }, bqField('value', f.values)],
      };
    case 'array': {
      const item = bqField(name, f.items);
      return { ...item, mode: 'REPEATED' };
    }
    case 'record':
      return {
        name,
        type: 'RECORD',
        mode,
        fields: Object.entries(f.fields).map(([k, v]) => bqField(k, v)),
      };
  }
}

/** A JSON record as a BigQuery row: maps become arrays of {key, value}. */
function bqRow(f: FieldType, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  switch (f.kind) {
    case 'map':
      return Object.entries(v as Record<string, unknown>).map(([key, value]) => ({
        key,
        value: bqRow(f.values, value),
      }));
    case 'array':
      return (v as unknown[]).map((x) => bqRow(f.items, x));
    case 'record':
      return Object.fromEntries(
        Object.entries(f.fields).map(([k, sub]) => [
          k,
          bqRow(sub, (v as Record<string, unknown>)[k]),
        ]),
      );
    default:
      return v;
  }
}

const freePort = (): Promise<number> =>
  new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
    s.on('error', rej);
  });

async function waitFor(url: string, ms: number): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > until) throw new Error(`emulator did not answer at ${url}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

if (!available) {
  it.skip(`bigquery emulator conformance — skipped: ${BIN} not found (run: bash scripts/bqemu.sh install)`, () => {});
} else {
  const emulatorHarness = async (): Promise<ConformanceHarness> => {
    const port = await freePort();
    const proc: ChildProcess = spawn(
      'bash',
      [join(ROOT, 'scripts/bqemu.sh'), 'start', String(port)],
      {
        stdio: 'ignore',
      },
    );
    const endpoint = `http://127.0.0.1:${port}`;
    await waitFor(`${endpoint}/bigquery/v2/projects/larder-test/datasets`, 30_000);
    const dataset = `t_${randomUUID().replaceAll('-', '')}`;
    const bq = new BigQuery({ projectId: 'larder-test', apiEndpoint: endpoint });
    await bq.createDataset(dataset);
    const tmp = tempDir();
    const store = new BigQueryOfflineStore({
      type: 'bigquery',
      project: 'larder-test',
      dataset,
      apiEndpoint: endpoint,
      home: tmp.dir,
      entityUpload: 'insert',
    });
    return {
      store,
      rawFiles: false,
      async writeSource(source, lines) {
        const schema: RecordType = source.schema;
        const table = bq.dataset(dataset).table(source.bigqueryTable);
        await table.delete({ ignoreNotFound: true });
        await bq.dataset(dataset).createTable(source.bigqueryTable, {
          schema: { fields: Object.entries(schema.fields).map(([k, f]) => bqField(k, f)) },
        });
        const rows = lines.map((l) => bqRow(schema, JSON.parse(l)) as Record<string, unknown>);
        if (rows.length > 0) await table.insert(rows);
      },
      async close() {
        await store.close();
        proc.kill('SIGTERM');
        tmp.cleanup();
      },
    };
  };
  describeOfflineStoreConformance('bigquery (emulator)', emulatorHarness);
  describeSourceStatisticsConformance('bigquery (emulator)', emulatorHarness);
}

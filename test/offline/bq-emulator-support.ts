/**
 * The local BigQuery emulator for tests (bqemulator from PyPI, `bash scripts/bqemu.sh install`
 * puts it in `.cache/py/bqemu`): start one on a free port with a fresh dataset, and write typed
 * tables from JSON records (maps become repeated key/value records).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { BigQuery, type TableField } from '@google-cloud/bigquery';
import type { FieldType, RecordType } from '../../definitions/record-schema.ts';
import { BigQueryOfflineStore } from '../../offline/bigquery/bigquery-offline-store.ts';
import { tempDir } from '../support/temp-repo.ts';
import type { ConformanceHarness } from './conformance-harness.ts';

const ROOT = resolve(import.meta.dirname, '../..');
export const BQ_EMULATOR_BIN = join(ROOT, '.cache/py/bqemu/bin/bqemulator');
export const bqEmulatorAvailable = existsSync(BQ_EMULATOR_BIN);

export function bqField(name: string, f: FieldType): TableField {
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
    case 'array':
      return { ...bqField(name, f.items), mode: 'REPEATED' };
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
export function bqRow(f: FieldType, v: unknown): unknown {
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

export interface BqEmulator {
  endpoint: string;
  project: string;
  dataset: string;
  bq: BigQuery;
  /** Replaces `table` with one of `schema`'s columns holding `records`. */
  writeTable(table: string, schema: RecordType, records: Record<string, unknown>[]): Promise<void>;
  /** A fresh dataset in the same emulator process (starting another takes seconds). */
  anotherDataset(): Promise<BqEmulator>;
  stop(): void;
}

/** Starts an emulator and creates a dataset in it (`stop` ends the process, every dataset). */
export async function startBqEmulator(): Promise<BqEmulator> {
  const port = await freePort();
  const proc = spawn('bash', [join(ROOT, 'scripts/bqemu.sh'), 'start', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-2000)));
  const endpoint = `http://127.0.0.1:${port}`;
  // By the monotonic clock: a step of the wall clock must not time the wait out early.
  const until = performance.now() + 60_000;
  for (;;) {
    try {
      const r = await fetch(`${endpoint}/bigquery/v2/projects/larder-test/datasets`);
      if (r.ok) break;
    } catch {
      // not up yet
    }
    if (proc.exitCode !== null || proc.signalCode !== null)
      throw new Error(
        `emulator exited (${proc.exitCode ?? proc.signalCode}) before answering: ${stderr}`,
      );
    if (performance.now() > until) {
      proc.kill('SIGTERM');
      throw new Error(`emulator did not answer at ${endpoint} within 60 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const bq = new BigQuery({ projectId: 'larder-test', apiEndpoint: endpoint });
  const withDataset = async (): Promise<BqEmulator> => {
    const dataset = `t_${randomUUID().replaceAll('-', '')}`;
    await bq.createDataset(dataset);
    return {
      endpoint,
      project: 'larder-test',
      dataset,
      bq,
      async writeTable(name, schema, records) {
        const table = bq.dataset(dataset).table(name);
        await table.delete({ ignoreNotFound: true });
        await bq.dataset(dataset).createTable(name, {
          schema: { fields: Object.entries(schema.fields).map(([k, f]) => bqField(k, f)) },
        });
        const rows = records.map((r) => bqRow(schema, r) as Record<string, unknown>);
        if (rows.length > 0) await table.insert(rows);
      },
      anotherDataset: withDataset,
      stop: () => proc.kill('SIGTERM'),
    };
  };
  return withDataset();
}

/**
 * A conformance harness on a fresh emulator, or on a fresh dataset of `options.emulator` (left
 * running by `close`): the BigQuery store (entities uploaded by insert) and sources written as
 * typed tables; `emulator` for suites that read tables back. `clock` is the store's (the ingest
 * rules' "now"; default the wall clock).
 */
export async function bqEmulatorHarness(
  options: { clock?: () => number; emulator?: BqEmulator } = {},
): Promise<ConformanceHarness & { emulator: BqEmulator }> {
  const emulator = options.emulator
    ? await options.emulator.anotherDataset()
    : await startBqEmulator();
  const tmp = tempDir();
  const store = new BigQueryOfflineStore(
    {
      type: 'bigquery',
      project: emulator.project,
      dataset: emulator.dataset,
      apiEndpoint: emulator.endpoint,
      home: tmp.dir,
      entityUpload: 'insert',
    },
    undefined,
    options.clock ? { clock: options.clock } : {},
  );
  return {
    store,
    rawFiles: false,
    emulator,
    async writeSource(source, lines) {
      await emulator.writeTable(
        source.bigqueryTable,
        source.schema,
        lines.map((l) => JSON.parse(l) as Record<string, unknown>),
      );
    },
    async close() {
      await store.close();
      if (!options.emulator) emulator.stop();
      tmp.cleanup();
    },
  };
}

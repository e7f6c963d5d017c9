/**
 * An `expectation_failed` rule with `run` validates on the configured offline store — the
 * embedded DuckDB store and BigQuery (the local emulator) — fires while a check fails and
 * resolves once the data is fixed and the next run (after `run.every`) passes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertEvaluator } from '../../alerts/alert-evaluator.ts';
import { alertStatePath } from '../../alerts/alert-state.ts';
import { projectSignals } from '../../alerts/signal-reader.ts';
import { resolveConfig, type LarderConfig } from '../../config/config.ts';
import { loadRepository } from '../../definitions/load.ts';
import type { Repository } from '../../definitions/repository.ts';
import {
  BQ_EMULATOR_BIN,
  bqEmulatorAvailable,
  startBqEmulator,
  type BqEmulator,
} from '../offline/bq-emulator-support.ts';
import { BASE_REPO, tempDir, tempRepo } from '../support/temp-repo.ts';

const T = Date.UTC(2026, 0, 2);
const HOUR = 3_600_000;
const REPO = BASE_REPO.replace(
  "  idField: 'id',\n});",
  "  idField: 'id',\n  expect: { fields: { userId: { notNull: true } } },\n});",
);
const event = (id: string, userId: string | null, ts: number) => ({
  id,
  userId,
  kind: 'click',
  amount: 1,
  ts,
});
const BAD = [event('e1', 'u1', T - 2 * HOUR), event('e2', null, T - HOUR)];
const GOOD = [event('e1', 'u1', T - 2 * HOUR), event('e2', 'u2', T - HOUR)];

let repoDir: { dir: string; cleanup: () => void };
let repo: Repository;
let tmp: { dir: string; cleanup: () => void };
beforeAll(async () => {
  expect(REPO).toContain('expect:');
  repoDir = tempRepo({ 'repo.ts': REPO });
  repo = await loadRepository(repoDir.dir);
  tmp = tempDir();
});
afterAll(() => {
  repoDir?.cleanup();
  tmp?.cleanup();
});

/** Evaluates the rule at T on `bad` data, then at T + 1h on good data. */
async function fireThenResolve(
  config: LarderConfig,
  write: (records: Record<string, unknown>[]) => Promise<void>,
): Promise<void> {
  let now = T;
  const signals = projectSignals(config, repo);
  const ev = new AlertEvaluator({
    alerts: config.alerts!,
    statePath: alertStatePath(config.home),
    read: signals.read,
    destinations: [],
    clock: () => now,
  });
  try {
    await write(BAD);
    const r1 = await ev.evaluate();
    expect(r1.errors).toEqual([]);
    expect(r1.fired.map((a) => [a.fingerprint, a.summary])).toEqual([
      [
        'gate{expectation=maxNullRate,object=batch_source:events,subject=userId}',
        'batch_source:events userId maxNullRate: expected null rate ≤ 0%, found 50% (1 of 2)',
      ],
    ]);
    await write(GOOD);
    now += HOUR;
    const r2 = await ev.evaluate();
    expect(r2.errors).toEqual([]);
    expect(r2.resolved.map((a) => a.fingerprint)).toEqual([
      'gate{expectation=maxNullRate,object=batch_source:events,subject=userId}',
    ]);
    expect(r2.firing).toEqual([]);
  } finally {
    await signals.close();
  }
}

const alerts = {
  rules: [
    {
      name: 'gate',
      signal: 'expectation_failed',
      run: { source: 'events', window: '1d', every: '1h' },
    },
  ],
};

describe('expectation_failed alerts on the offline stores', { timeout: 180_000 }, () => {
  it('DuckDB: validates the source files', async () => {
    const home = join(tmp.dir, 'duckdb-home');
    const dataDir = join(tmp.dir, 'duckdb-data');
    const config = resolveConfig({ repo: repoDir.dir, home, dataDir, alerts }, tmp.dir, {});
    const files = join(dataDir, 'raw', 'events');
    mkdirSync(files, { recursive: true });
    await fireThenResolve(config, async (records) => {
      writeFileSync(
        join(files, 'part-0.jsonl'),
        records.map((r) => `${JSON.stringify(r)}\n`).join(''),
      );
    });
  });

  if (!bqEmulatorAvailable)
    it.skip(`BigQuery emulator — skipped: ${BQ_EMULATOR_BIN} not found (run: bash scripts/bqemu.sh install)`, () => {});
  else
    it('BigQuery (emulator): validates the source table', async () => {
      let emulator: BqEmulator | null = null;
      try {
        emulator = await startBqEmulator();
        const bq = emulator;
        const config = resolveConfig(
          {
            repo: repoDir.dir,
            home: join(tmp.dir, 'bq-home'),
            offlineStore: {
              type: 'bigquery',
              project: bq.project,
              dataset: bq.dataset,
              apiEndpoint: bq.endpoint,
              entityUpload: 'insert',
            },
            alerts,
          },
          tmp.dir,
          {},
        );
        const schema = repo.batchSources.get('events')!.spec.schema;
        await fireThenResolve(config, (records) => bq.writeTable('events', schema, records));
      } finally {
        emulator?.stop();
      }
    });
});

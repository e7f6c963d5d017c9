/** Drift over windows of offline values on the embedded DuckDB store (its raw JSON Lines files). */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBOfflineStore } from '../../offline/duckdb/duckdb-offline-store.ts';
import { tempDir } from '../support/temp-repo.ts';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DAY,
  describeDriftWindowsConformance,
  DRIFT_REPO,
  driftHistory,
  HOUR,
  T0,
} from './drift-windows-conformance.ts';
import { tempRepo } from '../support/temp-repo.ts';

describeDriftWindowsConformance('duckdb', async () => {
  const tmp = tempDir();
  const dataDir = join(tmp.dir, 'data');
  const store = new DuckDBOfflineStore({
    type: 'duckdb',
    dataDir,
    home: join(tmp.dir, 'home'),
    memoryLimit: '1GB',
    threads: 1,
  });
  return {
    store,
    rawFiles: true,
    async writeSource(source, lines, file = 'part-00000.jsonl') {
      const dir = join(dataDir, source.path);
      mkdirSync(dir, { recursive: true });
      for (const f of readdirSync(dir)) rmSync(join(dir, f), { recursive: true, force: true });
      writeFileSync(join(dir, file), lines.map((l) => `${l}\n`).join(''));
    },
    async close() {
      await store.close();
      tmp.cleanup();
    },
  };
});

describe('larder drift over offline windows (DuckDB, the CLI)', () => {
  const tmp = tempDir();
  const repo = tempRepo({ 'repo.ts': DRIFT_REPO });
  afterAll(() => {
    tmp.cleanup();
    repo.cleanup();
  });

  it('--reference-window and --current-window; svc has no logging, so the current side is offline', async () => {
    const dir = join(tmp.dir, 'data', 'raw', 'ev');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'part-0.jsonl'),
      driftHistory()
        .map((l) => `${l}\n`)
        .join(''),
    );
    const iso = (t: number): string => new Date(t).toISOString();
    const html = join(tmp.dir, 'drift.html');
    const r = await promisify(execFile)(
      'node',
      [
        'bin/larder.js',
        'drift',
        '--service',
        'svc',
        '--reference-window',
        `${iso(T0)}..${iso(T0 + 4 * HOUR)}`,
        '--current-window',
        `${T0 + DAY}..${T0 + DAY + 4 * HOUR}`,
        '--every',
        '1h',
        '--repo',
        repo.dir,
        '--json',
        '--html',
        html,
      ],
      {
        env: {
          ...process.env,
          LARDER_HOME: join(tmp.dir, 'home'),
          LARDER_DATA_DIR: join(tmp.dir, 'data'),
          LARDER_OFFLINE_STORE: 'duckdb',
        },
      },
    );
    const report = JSON.parse(r.stdout) as {
      current: unknown;
      features: { feature: string; drifted: boolean; currentCount: number }[];
    };
    expect(report.current).toEqual({
      type: 'offline',
      start: iso(T0 + DAY),
      end: iso(T0 + DAY + 4 * HOUR),
      every: '1h',
    });
    expect(report.features.map((f) => [f.feature, f.currentCount, f.drifted])).toEqual([
      ['last_amount', 16, false],
      ['last_kind', 16, true],
      ['n_1d', 16, false],
    ]);
    const page = readFileSync(html, 'utf8');
    expect(page).toContain('Current: offline values in [');
    expect(page).toContain('<td>PSI &#62; 100* or p &#60; 1e-9*</td>');
  });
});

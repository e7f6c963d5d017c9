/** Drift over windows of offline values on the embedded DuckDB store (its raw JSON Lines files). */
import { join } from 'node:path';
import { duckdbHarness } from '../offline/duckdb-harness.ts';
import { tempDir } from '../support/temp-repo.ts';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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

describeDriftWindowsConformance('duckdb', async () =>
  duckdbHarness({ memoryLimit: '1GB', threads: 1 }),
);

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

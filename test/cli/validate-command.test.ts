/**
 * `larder validate` and `materialize --validate` as a scheduled pipeline runs them: the exit
 * code is the gate (0 passed, 1 failed with LARDER_EXPECTATION_FAILED), the JSON and HTML
 * reports are written either way, and a failed validation materializes nothing.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir, tempRepo } from '../support/temp-repo.ts';

const exec = promisify(execFile);
const T0 = Date.UTC(2024, 0, 1);
const HOUR = 3_600_000;
const DAY = 86_400_000;

const REPO = `
import { z } from 'zod';
import { batchSource, col, count, entity, featureView, sum } from 'larder';
export const user = entity({ name: 'user', joinKey: 'user_id' });
export const events = batchSource({
  name: 'events',
  schema: z.object({ id: z.string(), userId: z.string().nullable(), kind: z.string(), amount: z.number(), ts: z.number().int() }),
  timestampField: 'ts',
  idField: 'id',
  expect: { fields: { userId: { notNull: true }, amount: { min: 0 }, kind: { allowed: ['click', 'view'] } } },
});
export const activity = featureView({
  name: 'activity', entities: [user], source: events, keys: { user_id: col('userId') },
  filter: col('userId').isNotNull(), ttl: '30d',
  features: { clicks_1d: count({ where: col('kind').eq('click'), window: '1d' }), spend_1d: sum(col('amount'), { window: '1d' }) },
  expect: { spend_1d: { max: 1000 } },
});
`;

let repo: { dir: string; cleanup: () => void };
let tmp: { dir: string; cleanup: () => void };

beforeAll(() => {
  repo = tempRepo({ 'repo.ts': REPO });
  tmp = tempDir();
  const data = join(tmp.dir, 'data', 'raw', 'events');
  mkdirSync(data, { recursive: true });
  const ev = (id: string, userId: string | null, kind: string, ts: number): string =>
    JSON.stringify({ id, userId, kind, amount: 5, ts });
  writeFileSync(
    join(data, 'part-0.jsonl'),
    [
      ev('e1', 'u1', 'click', T0 + HOUR),
      ev('e2', 'u2', 'view', T0 + 2 * HOUR),
      ev('e3', null, 'view', T0 + 3 * HOUR), // fails userId notNull
    ]
      .map((l) => `${l}\n`)
      .join(''),
  );
});
afterAll(() => {
  repo?.cleanup();
  tmp?.cleanup();
});

async function larder(args: string[], home: string) {
  try {
    const r = await exec('node', ['bin/larder.js', '--repo', repo.dir, ...args], {
      env: {
        ...Object.fromEntries(
          Object.entries(process.env).filter(([k]) => !/^LARDER_(ONLINE|OFFLINE)_STORE$/.test(k)),
        ),
        LARDER_HOME: home,
        LARDER_DATA_DIR: join(tmp.dir, 'data'),
        LARDER_DEBUG: '',
      },
      timeout: 120_000,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

const range = ['--start', new Date(T0).toISOString(), '--end', new Date(T0 + DAY).toISOString()];

// The cases run side by side, each with its own LARDER_HOME (the raw data is only read).
describe('larder validate', { timeout: 240_000, concurrent: true }, () => {
  it('a failed expectation: exit 1, LARDER_EXPECTATION_FAILED, both reports written', async () => {
    const home = join(tmp.dir, 'home-fail');
    const r = await larder(['validate', ...range], home);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /FAILED\s+batch_source:events\s+userId\s+null rate ≤ 0%\s+33\.33% \(1 of 3\)/,
    );
    expect(r.stderr).toContain(
      'error [LARDER_EXPECTATION_FAILED]: 1 expectation check(s) failed: 3 of 4 checks passed (75.0%, gate 100.0%)',
    );
    // The summary (with the report's path), the error and its hint.
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^3 of 4 checks passed .* report: .*validation\.html$/);
    expect(lines[2]).toMatch(/^ {2}hint: see .*validation\.html/);
    const report = JSON.parse(readFileSync(join(home, 'validation', 'validation.json'), 'utf8'));
    expect(report).toMatchObject({ passed: false, passRate: 0.75, failUnder: 1 });
    expect(readFileSync(join(home, 'validation', 'validation.html'), 'utf8')).toContain('<svg');
  });

  it('--fail-under lets a pass rate over it through: exit 0; --json prints the report', async () => {
    const out = join(tmp.dir, 'reports');
    const r = await larder(
      ['validate', ...range, '--fail-under', '75%', '--out', out, '--json'],
      join(tmp.dir, 'h2'),
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      passed: true,
      failUnder: 0.75,
      files: { json: join(out, 'validation.json'), html: join(out, 'validation.html') },
    });
    expect(existsSync(join(out, 'validation.html'))).toBe(true);
  });

  it('one view alone; refused flags are one-line errors', async () => {
    const home = join(tmp.dir, 'h3');
    const [ok, both, rate, order, unknown] = await Promise.all([
      larder(['validate', ...range, '--view', 'activity', '--fail-under', '0.7'], home),
      larder(['validate', '--source', 'events', '--view', 'activity'], home),
      larder(['validate', '--fail-under', '1.5'], home),
      larder(['validate', '--start', 'now', '--end', 'now-1d'], home),
      larder(['validate', '--source', 'nope'], home),
    ]);
    expect(ok.code).toBe(0);
    expect(both.code).toBe(1);
    expect(both.stderr).toBe(
      'error [LARDER_BAD_REQUEST]: pass one of --source, --view and --service, not --source and --view\n',
    );
    expect(rate.code).toBe(1);
    expect(rate.stderr).toContain(
      'error [LARDER_BAD_REQUEST]: --fail-under "1.5" is not a pass rate',
    );
    expect(order.stderr).toMatch(/^error \[LARDER_BAD_REQUEST\]: --start \S+ is not before --end/);
    expect(unknown.stderr).toMatch(/^error \[LARDER_NOT_FOUND\]: unknown source "nope"/);
  });

  it('materialize --validate: a failed gate materializes nothing; a passed one materializes', async () => {
    const home = join(tmp.dir, 'h4');
    expect((await larder(['apply'], home)).code).toBe(0);
    const end = ['--end', new Date(T0 + DAY).toISOString()];
    const failed = await larder(['materialize', ...end, '--validate', '--json'], home);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('error [LARDER_EXPECTATION_FAILED]');
    expect(failed.stdout).not.toContain('"views"');
    const passed = await larder(
      ['materialize', ...end, '--validate', '--fail-under', '0.7', '--json'],
      home,
    );
    expect(passed.code).toBe(0);
    expect(passed.stdout).toContain('"view": "activity"');
  });
});

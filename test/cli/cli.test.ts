import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { BASE_REPO, tempDir, tempRepo } from '../support/temp-repo.ts';

const run = promisify(execFile);
const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

async function larder(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run('node', ['bin/larder.js', ...args], { env: { ...process.env, ...env } });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

describe('larder CLI', () => {
  it('prints help', async () => {
    const r = await larder(['--help']);
    expect(r.code).toBe(0);
    for (const cmd of ['plan', 'apply', 'list', 'describe']) expect(r.stdout).toContain(cmd);
  });

  it.each(['--version', '-V'])("%s prints package.json's version", async (flag) => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    const r = await larder([flag]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${pkg.version}\n`);
  });

  it('applies features/, lists and describes it, as text and JSON', async () => {
    const home = tempDir();
    cleanups.push(home.cleanup);
    const env = { LARDER_HOME: home.dir };
    const apply = await larder(['apply'], env);
    expect(apply.code).toBe(0);
    // 17 objects of version 1; v2: 5 feature views, 1 on-demand view, 2 services; batch: 2 views, 1 service.
    expect(apply.stdout).toContain('Plan: 28 to add, 0 to change, 0 to remove, 0 unchanged.');
    const again = await larder(['apply', '--json'], env);
    expect(JSON.parse(again.stdout)).toMatchObject({
      written: false,
      version: 1,
      plan: { changes: [], unchanged: 28 },
    });
    const views = await larder(['list', 'views', '--json'], env);
    expect(JSON.parse(views.stdout).map((v: { name: string }) => v.name)).toEqual([
      'product_catalog',
      'product_engagement',
      'user_activity',
      'user_interest',
      'user_orders',
      'user_product_engagement',
      'user_purchases',
      'user_risk',
      'user_sessions',
    ]);
    const text = await larder(['list'], env);
    expect(text.stdout).toMatch(/feature service\s+recommendation_v1\s+v1\s+26 features/);
    expect(text.stdout).toMatch(
      /batch view\s+user_segments\s+v1\s+user ← transactions · 4 features · every 1d · ttl 1d/,
    );
    const desc = await larder(['describe', 'user_purchases'], env);
    expect(desc.stdout).toContain(
      'preferred_category_30d  string   mode(orderItems[].category × orderItems[].quantity)  30d / hop 1d',
    );
    const missing = await larder(['describe', 'nope'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(
      'error [LARDER_NOT_FOUND]: no object named "nope" in the registry',
    );
    expect(missing.stderr).toContain('hint: see `larder list`');
  });

  it('exits 1 with a precise message for a broken definition', async () => {
    const repo = tempRepo({
      'repo.ts': BASE_REPO.replace("window: '1h' }", "window: '45m', hop: '10m' }"),
    });
    cleanups.push(repo.cleanup);
    const home = tempDir();
    cleanups.push(home.cleanup);
    const r = await larder(['--repo', repo.dir, 'apply'], { LARDER_HOME: home.dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /error: 1 problem in the feature definitions:\n {2}.*repo\.ts:\d+: feature view "activity" → features\.clicks_1h: window 45m is not a multiple of hop 10m\n {4}hint: use a window of 40m or a hop that divides 45m/,
    );
  });

  it('generates data deterministically with gen-data', async () => {
    const out = tempDir();
    cleanups.push(out.cleanup);
    const args = [
      'gen-data',
      '--users',
      '20',
      '--products',
      '10',
      '--days',
      '1',
      '--events',
      '500',
      '--seed',
      '7',
      '--end',
      '2026-01-02T00:00:00Z',
      '--json',
    ];
    const a = await larder([...args, '--out', `${out.dir}/a`]);
    await larder([...args, '--out', `${out.dir}/b`]);
    expect(a.code).toBe(0);
    const sa = JSON.parse(a.stdout);
    expect(sa).toMatchObject({
      events: 500,
      start: Date.UTC(2026, 0, 1),
      end: Date.UTC(2026, 0, 2),
    });
    const { readFileSync } = await import('node:fs');
    const first = readFileSync(`${out.dir}/a/raw/user_events/part-00000.jsonl`, 'utf8');
    expect(first.trim().split('\n')).toHaveLength(500);
    expect(readFileSync(`${out.dir}/b/raw/user_events/part-00000.jsonl`, 'utf8')).toBe(first);
    const bad = await larder(['gen-data', '--format', 'xml', '--out', `${out.dir}/c`]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--format "xml" is not supported');
  });

  it('reports invalid configuration without a stack trace', async () => {
    const r = await larder(['plan'], { LARDER_ONLINE_STORE: 'postgres://x' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('LARDER_CONFIG_INVALID');
    expect(r.stderr).not.toContain('    at ');
  });
});

/**
 * `larder monitor --once` as a cron job or CI step runs it: exit 0 when nothing fires, 1 when an
 * alert fires or a rule cannot be evaluated, a FIRING / RESOLVED line per change; bad
 * configuration, unknown names and bad flags are one-line errors.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeRegistry } from '../../registry/registry-file.ts';
import { BASE_REPO, tempDir, tempRepo } from '../support/temp-repo.ts';

const exec = promisify(execFile);
const BIN = resolve('bin/larder.js');

let repo: { dir: string; cleanup: () => void };
let tmp: { dir: string; cleanup: () => void };
beforeAll(() => {
  repo = tempRepo({ 'repo.ts': BASE_REPO });
  tmp = tempDir();
});
afterAll(() => {
  repo?.cleanup();
  tmp?.cleanup();
});

/** A project folder whose larder.config.ts exports `config`. */
function project(name: string, config: unknown): string {
  const dir = join(tmp.dir, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'larder.config.ts'), `export default ${JSON.stringify(config)};\n`);
  return dir;
}

async function monitor(dir: string, args: string[] = ['--once']) {
  try {
    const r = await exec('node', [BIN, '--repo', repo.dir, 'monitor', ...args], {
      cwd: dir,
      env: {
        ...Object.fromEntries(
          Object.entries(process.env).filter(([k]) => !k.startsWith('LARDER_')),
        ),
        LARDER_HOME: join(dir, 'home'),
      },
      timeout: 60_000,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

const stale = {
  name: 'stale',
  signal: 'freshness',
  severity: 'critical',
  views: ['activity'],
  maxAge: '1h',
};

describe('larder monitor --once', { timeout: 120_000 }, () => {
  it('exit 1 while an alert fires, 0 once it resolved', async () => {
    const dir = project('fires', { alerts: { rules: [stale] } });
    const fired = await monitor(dir);
    expect(fired.code).toBe(1);
    expect(fired.stdout).toMatch(
      /^RULE\s+SEVERITY\s+LABELS\s+SUMMARY\nstale\s+critical\s+view=activity\s+activity has never been materialized \(at most 1h old\)\n$/,
    );
    expect(fired.stderr.trim().split('\n')).toEqual([
      'larder: FIRING stale{view=activity} (critical): activity has never been materialized (at most 1h old)',
      '1 alert(s) firing (1 new, 0 resolved), 0 rule(s) failed, 0 message(s) not delivered',
    ]);
    // Still firing: exit 1, but no second FIRING line.
    const again = await monitor(dir);
    expect(again.code).toBe(1);
    expect(again.stderr).not.toContain('FIRING');

    writeRegistry(join(dir, 'home'), {
      format: 1,
      version: 1,
      appliedAt: new Date().toISOString(),
      repo: repo.dir,
      objects: {},
      watermarks: { activity: Date.now() - 60_000 },
    });
    const resolved = await monitor(dir, ['--once', '--json']);
    expect(resolved.code).toBe(0);
    const r = JSON.parse(resolved.stdout) as {
      firing: unknown[];
      resolved: { fingerprint: string }[];
    };
    expect(r.firing).toEqual([]);
    expect(r.resolved.map((a) => a.fingerprint)).toEqual(['stale{view=activity}']);
  });

  it('exit 1 when a rule cannot be evaluated, with its reason', async () => {
    const dir = project('fails', {
      alerts: { rules: [{ name: 'gate', signal: 'expectation_failed' }] },
    });
    const r = await monitor(dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^larder: alert rule gate failed: no validation report at .*validation\.json: run larder validate first\n/,
    );
    expect(r.stderr).toContain('0 alert(s) firing (0 new, 0 resolved), 1 rule(s) failed');
  });

  it.each([
    [
      {},
      ['--once'],
      'error [LARDER_CONFIG_INVALID]: no alert rules are configured',
      'add alerts: { rules: [...] } to larder.config.ts',
    ],
    [
      { alerts: { rules: [{ ...stale, maxAge: '1 hour' }] } },
      ['--once'],
      'error [LARDER_CONFIG_INVALID]: invalid configuration (larder.config.ts and LARDER_* env): alerts.rules.0.maxAge: "1 hour" is not a duration; write e.g. "30s", "5m", "2h", "1d"',
      'the alerts section is described in docs/monitoring.md "Alerts"',
    ],
    [
      { alerts: { rules: [{ ...stale, views: ['nope'] }] } },
      ['--once'],
      'error [LARDER_NOT_FOUND]: alert rule stale: unknown feature view "nope"',
      'known feature views: activity (alerts.rules in larder.config.ts)',
    ],
    [
      { alerts: { rules: [stale] } },
      ['--json'],
      'error [LARDER_BAD_REQUEST]: --json needs --once',
      'the loop prints one line per firing or resolved alert',
    ],
    [
      { alerts: { rules: [stale] } },
      ['--once', '--metrics-port', 'x'],
      'error [LARDER_BAD_REQUEST]: --metrics-port x: not a port number',
      null,
    ],
  ])('refuses bad input in one line (case %#)', async (config, args, line, hint) => {
    const r = await monitor(project(`bad-${Math.random().toString(36).slice(2)}`, config), args);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`${line}\n`);
    if (hint) expect(r.stderr).toContain(`  hint: ${hint}`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

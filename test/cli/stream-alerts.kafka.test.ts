/**
 * `larder stream --alerts` hosts the alert evaluator: it evaluates the configured rules every
 * `alerts.every`, logs what fires, writes the state file the dashboard reads, and exports the
 * alert metrics on the worker's own `--metrics-port`.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { alertStatePath, readAlertState } from '../../alerts/alert-state.ts';
import { createTestTopics } from '../streaming/stream-fixture.ts';
import { tempDir } from '../support/temp-repo.ts';
import { freePort, until } from '../support/wait.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('larder stream --alerts', () => {
  it('evaluates the rules in the worker, with the metrics on its --metrics-port', async () => {
    const topics = await createTestTopics(1);
    cleanups.push(topics.cleanup);
    const project = tempDir();
    cleanups.push(project.cleanup);
    writeFileSync(
      join(project.dir, 'larder.config.ts'),
      `export default ${JSON.stringify({
        alerts: {
          every: '1s',
          rules: [{ name: 'stale', signal: 'freshness', views: ['user_activity'], maxAge: '1h' }],
        },
      })};\n`,
    );
    const home = join(project.dir, 'home');
    const port = await freePort();
    const child = spawn(
      'node',
      [
        resolve('bin/larder.js'),
        '--repo',
        resolve('examples/ecommerce/features'),
        'stream',
        '--alerts',
        '--metrics-port',
        String(port),
      ],
      {
        cwd: project.dir,
        env: {
          ...Object.fromEntries(
            Object.entries(process.env).filter(([k]) => !k.startsWith('LARDER_')),
          ),
          ...topics.env,
          LARDER_HOME: home,
          LARDER_NAMESPACE: `t${randomUUID().slice(0, 8)}`,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    cleanups.push(async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const firing = await until(
      'the alert firing line',
      () =>
        stdout
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as { msg: string; alert?: string; summary?: string })
          .find((l) => l.msg === 'alert firing') ?? null,
      90_000,
    );
    expect(firing).toMatchObject({
      alert: 'stale{view=user_activity}',
      summary: 'user_activity has never been materialized (at most 1h old)',
    });
    const metrics = await until('the alert metrics', async () => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return text.includes('larder_alert_evaluations_total') ? text : null;
    });
    expect(metrics).toContain('larder_alerts_firing{rule="stale",severity="warning"} 1');
    expect(metrics).toContain('larder_stream_records_total'); // the worker's own, same registry
    expect(existsSync(alertStatePath(home))).toBe(true);
    expect(readAlertState(alertStatePath(home)).alerts['stale{view=user_activity}']?.status).toBe(
      'firing',
    );
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 150_000);
});

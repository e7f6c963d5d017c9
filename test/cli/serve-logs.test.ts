/**
 * `larder serve` logs structured JSON on stdout by default (level info): a request failing on an
 * on-demand transform is answered with a 500 naming the view and logged at level error.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { BASE_REPO, tempDir, tempRepo } from '../support/temp-repo.ts';
import { freePort, until } from '../support/wait.ts';

const run = promisify(execFile);
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const REPO = `${BASE_REPO}
import { onDemandFeatureView, requestField } from 'larder';
export const coded = onDemandFeatureView({
  name: 'coded',
  entities: [user],
  inputs: { code: requestField('code', 'string') },
  features: { code_len: 'int64' },
  transform: ({ code }) => ({
    code_len: code.map((c) => {
      if (c === 'boom') throw new Error('cannot score code ' + c);
      return c === null ? null : c.length;
    }),
  }),
});
`;

describe('larder serve logging', () => {
  it('logs a failing on-demand transform as JSON at level error, without --log', async () => {
    const repo = tempRepo({ 'repo.ts': REPO });
    cleanups.push(repo.cleanup);
    const home = tempDir();
    cleanups.push(home.cleanup);
    const env = { ...process.env, LARDER_HOME: home.dir };
    await run('node', ['bin/larder.js', '--repo', repo.dir, 'apply'], { env });
    const port = await freePort();
    const child: ChildProcess = spawn(
      'node',
      ['bin/larder.js', '--repo', repo.dir, 'serve', '--port', String(port), '--no-grpc'],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const exited = new Promise((r) => child.once('exit', r));
    cleanups.push(async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const base = `http://127.0.0.1:${port}`;
    await until('the server', async () =>
      fetch(`${base}/ready`).then(
        (r) => (r.ok ? true : null),
        () => null,
      ),
    );
    const res = await fetch(`${base}/get-online-features`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        features: ['coded:code_len'],
        entities: { user_id: ['u1', 'u2'], code: ['ok', 'boom'] },
      }),
    });
    expect(res.status).toBe(500);
    // The body of an error on a Feast route: Feast's error detail, a JSON string.
    const body = {
      error: JSON.parse((await res.json()) as string) as { code: string; message: string },
    };
    expect(body.error.code).toBe('LARDER_ON_DEMAND_FAILED');
    expect(body.error.message).toMatch(
      /^on-demand feature view "coded" threw Error: cannot score code boom at .*repo\.ts:\d+$/,
    );
    const logged = await until('the error log line', () => {
      const lines = stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { level: number; msg: string; code?: string });
      return lines.find((l) => l.level === 50) ?? null;
    });
    expect(logged.msg).toBe(body.error.message);
    expect(logged.code).toBe('LARDER_ON_DEMAND_FAILED');
    // Per-request lines only at --log-level debug.
    expect(stdout).not.toContain('incoming request');
    // The banner on stderr names the exact URLs to open (cli/serve-banner.ts); with several
    // workers it comes once they all listen, after the first answers /ready.
    const banner = `larder: dashboard ${base}/ui · API docs ${base}/docs\n`;
    await until('the banner', () => (stderr.includes(banner) ? true : null));
    expect(stderr.split(banner)).toHaveLength(2);
  }, 120_000);

  it('refuses an unknown --log-level in one line', async () => {
    const r = await run('node', ['bin/larder.js', 'serve', '--log-level', 'loud']).catch(
      (e: unknown) => e as { code: number; stderr: string },
    );
    expect((r as { code: number }).code).toBe(1);
    expect((r as { stderr: string }).stderr).toBe(
      'error [LARDER_BAD_REQUEST]: --log-level loud: not a log level\n  hint: use one of: fatal, error, warn, info, debug, trace, silent\n',
    );
  });
});

/**
 * The container image, built and run for real: Debian's podman builds the Dockerfile on a base
 * image made here from Debian's packages (scripts/container-base.sh: debootstrap + this
 * machine's Node 20), since no image registry is reachable; the container serves a request,
 * reports healthy through its HEALTHCHECK, runs as a non-root user, and stops gracefully.
 * podman runs with runc (crun refuses this machine's hybrid cgroups) and with ulimits at or
 * under the machine's (it may not raise them).
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
const BASE = 'localhost/larder-test-base:bookworm-node20';
const id = randomUUID().slice(0, 8);
const IMAGE = `localhost/larder:test-${id}`;
const NAME = `larder-test-${id}`;
const RUNTIME = ['--runtime', 'runc'];
const LIMITS = ['--ulimit', 'nofile=4096:4096', '--ulimit', 'nproc=4096:4096'];

const podman = (args: string[], timeout = 120_000) =>
  run('podman', args, { cwd: ROOT, timeout, maxBuffer: 64 << 20 });

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });

/** This checkout's better-sqlite3 binary as the prebuild prebuild-install looks for (no GitHub here). */
function stagePrebuild(): string {
  const dir = join(ROOT, 'deploy/container/prebuilds');
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(dir)) if (f.endsWith('.tar.gz')) rmSync(join(dir, f));
  const { version } = JSON.parse(
    readFileSync(join(ROOT, 'node_modules/better-sqlite3/package.json'), 'utf8'),
  ) as { version: string };
  return join(
    dir,
    `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`,
  );
}

let port: number;
let buildLog = '';

beforeAll(async () => {
  await run('bash', ['scripts/container-base.sh', BASE], { cwd: ROOT, timeout: 600_000 });
  const tarball = stagePrebuild();
  await run('tar', ['czf', tarball, 'build/Release/better_sqlite3.node'], {
    cwd: join(ROOT, 'node_modules/better-sqlite3'),
  });
  const npmCache = (await run('npm', ['config', 'get', 'cache'])).stdout.trim();
  const build = await podman(
    [
      'build',
      ...RUNTIME,
      ...LIMITS,
      '--network',
      'host',
      '--format',
      'docker',
      '--build-arg',
      `BASE=${BASE}`,
      '--build-arg',
      'npm_config_cache=/npm-cache',
      '--build-arg',
      'npm_config_prefer_offline=true',
      '--volume',
      `${npmCache}:/npm-cache`,
      '-t',
      IMAGE,
      '.',
    ],
    600_000,
  );
  buildLog = `${build.stdout}${build.stderr}`;
  port = await freePort();
  await podman([
    'run',
    '-d',
    ...RUNTIME,
    ...LIMITS,
    '--name',
    NAME,
    '-p',
    `127.0.0.1:${port}:8566`,
    IMAGE,
    'serve',
    '--host',
    '0.0.0.0',
    '--port',
    '8566',
    '--workers',
    '1',
  ]);
}, 900_000);

afterAll(async () => {
  await podman(['rm', '-f', NAME]).catch(() => undefined);
  await podman(['rmi', '-f', IMAGE]).catch(() => undefined);
  // The build stage's image is left untagged: remove it (the base and its layers stay cached).
  await podman(['image', 'prune', '-f']).catch(() => undefined);
});

async function waitHealthy(url: string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    if (Date.now() > end) {
      const logs = await podman(['logs', NAME]).catch((e: unknown) => ({
        stdout: String(e),
        stderr: '',
      }));
      throw new Error(
        `${url} not healthy within ${ms} ms; container logs:\n${logs.stdout}${logs.stderr}`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('container image (Dockerfile, podman)', () => {
  it('builds in two stages without a native compile', () => {
    expect(buildLog).toMatch(/\[1\/2\] STEP/);
    expect(buildLog).toMatch(/\[2\/2\] COMMIT/);
    expect(buildLog).not.toMatch(/node-gyp|gyp info/);
  });

  it('serves a request on the published port', async () => {
    await waitHealthy(`http://127.0.0.1:${port}/health`, 90_000);
    const res = await fetch(`http://127.0.0.1:${port}/get-online-features`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        features: ['user_activity:events_24h'],
        entities: { user_id: ['u1'] },
      }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { metadata: { feature_names: string[] } };
    expect(body.metadata.feature_names).toEqual(['user_id', 'events_24h']);
  });

  it('passes its HEALTHCHECK and runs as the unprivileged user larder', async () => {
    await podman(['healthcheck', 'run', NAME]);
    const whoami = await podman(['exec', NAME, 'id', '-un']);
    expect(whoami.stdout.trim()).toBe('larder');
    const inspect = await podman([
      'image',
      'inspect',
      IMAGE,
      '--format',
      '{"user":{{json .Config.User}},"health":{{json .HealthCheck}}}',
    ]);
    const c = JSON.parse(inspect.stdout) as { user: string; health: { Test: string[] } | null };
    expect(c.user).toBe('larder');
    expect(c.health?.Test.join(' ')).toContain('http://127.0.0.1:8566/health');
  });

  it('has the stream worker and the scheduler in the same image', async () => {
    for (const command of ['stream', 'scheduler']) {
      const help = await podman(['run', '--rm', ...RUNTIME, ...LIMITS, IMAGE, command, '--help']);
      expect(help.stdout).toContain(`Usage: larder ${command}`);
    }
  });

  it('stops gracefully on SIGTERM (exit code 0)', async () => {
    await podman(['stop', '-t', '20', NAME]);
    const state = await podman(['inspect', NAME, '--format', '{{.State.ExitCode}}']);
    expect(state.stdout.trim()).toBe('0');
  });
});

/**
 * `larder serve --workers N`: N processes share the REST and gRPC ports behind one supervising
 * primary (cli/serve-cluster.ts). Real processes: the banner once, `/metrics` summed over the
 * workers, a killed worker replaced, SIGTERM draining every worker, and startup errors reported
 * once.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { get } from 'node:http';
import { readFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { BASE_REPO, tempDir, tempRepo } from '../support/temp-repo.ts';
import { freePort, until } from '../support/wait.ts';

const run = promisify(execFile);
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const statusOf = (url: string): Promise<number> =>
  new Promise((resolve, reject) =>
    get(url, { agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).once('error', reject),
  );

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The processes `pid` started (Linux: /proc/<pid>/task/<pid>/children). */
const childPids = (pid: number): number[] =>
  readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);

async function start(args: string[]) {
  const repo = tempRepo({ 'repo.ts': BASE_REPO });
  cleanups.push(repo.cleanup);
  const home = tempDir();
  cleanups.push(home.cleanup);
  const env = { ...process.env, LARDER_HOME: home.dir };
  await run('node', ['bin/larder.js', '--repo', repo.dir, 'apply'], { env });
  const child: ChildProcess = spawn(
    'node',
    ['bin/larder.js', '--repo', repo.dir, 'serve', ...args],
    {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  cleanups.push(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await exited;
  });
  const out = { stdout: '', stderr: '' };
  child.stdout!.on('data', (d: Buffer) => (out.stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out.stderr += d.toString()));
  return { child, exited, out };
}

describe('larder serve --workers', () => {
  it('shares the ports across workers, sums /metrics, replaces a dead worker and drains on SIGTERM', async () => {
    const port = await freePort();
    const { child, exited, out } = await start([
      '--port',
      String(port),
      '--grpc-port',
      '0',
      '--workers',
      '2',
      '--log',
    ]);
    const line = await until('the workers line', () =>
      /larder: 2 worker processes \((\d+), (\d+)\) share the ports/.exec(out.stderr),
    );
    const pids = [Number(line[1]), Number(line[2])];
    expect(pids.every(alive)).toBe(true);
    // The banner once, from the primary, with the gRPC port it chose for every worker.
    expect(out.stderr.match(/larder: REST on /g)).toHaveLength(1);
    const grpcPort = Number(
      /gRPC feast\.serving\.ServingService on 127\.0\.0\.1:(\d+)/.exec(out.stderr)![1],
    );
    expect(grpcPort).toBeGreaterThan(0);
    await new Promise<void>((resolve, reject) => {
      const s = connect(grpcPort, '127.0.0.1', () => {
        s.end();
        resolve();
      });
      s.once('error', reject);
    });

    const base = `http://127.0.0.1:${port}`;
    // A new connection per request (no keep-alive), so the primary spreads them over workers.
    for (let i = 0; i < 20; i++) expect(await statusOf(`${base}/registry`)).toBe(200);
    // Both workers served (their own request logs), and any worker's /metrics is the sum.
    const loggedPids = new Set(
      out.stdout
        .split('\n')
        .filter((l) => l.includes('"url":"/registry"'))
        .map((l) => (JSON.parse(l) as { pid: number }).pid),
    );
    expect([...loggedPids].sort()).toEqual([...pids].sort());
    for (let i = 0; i < 3; i++) {
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(
        /larder_http_request_duration_seconds_count\{route="\/registry",method="GET",status="200"\} 20\n/,
      );
    }

    // kill -9 one worker: the primary starts another and serving never stops.
    process.kill(pids[0]!, 'SIGKILL');
    const replaced = await until('a replacement worker', () =>
      new RegExp(`serve worker ${pids[0]} exited \\(SIGKILL\\); starting another`).test(out.stderr)
        ? true
        : null,
    );
    expect(replaced).toBe(true);
    expect((await fetch(`${base}/health`)).status).toBe(200);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out.stderr).toContain('larder: shutting down (draining requests in every worker)');
    await until('every worker gone', () => (pids.some(alive) ? null : true));
  }, 120_000);

  it('exits 0 when SIGTERM stops it while the first worker is still starting', async () => {
    const { child, exited, out } = await start(['--port', '0', '--no-grpc', '--workers', '2']);
    // The primary has forked the first worker, which has not announced that it listens yet.
    const [first] = await until('the first worker process', () =>
      childPids(child.pid!).length > 0 ? childPids(child.pid!) : null,
    );
    expect(out.stderr).not.toContain('share the ports');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out.stderr).toContain('larder: shutting down (draining requests in every worker)');
    expect(out.stderr).not.toMatch(/^error/m);
    await until('the worker gone', () => (alive(first!) ? null : true));
  }, 60_000);

  it('reports a port in use once (the first worker fails alone) and exits 1', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => blocker.close(() => r())));
    const port = (blocker.address() as { port: number }).port;
    const { exited, out } = await start(['--port', String(port), '--no-grpc', '--workers', '2']);
    expect(await exited).toBe(1);
    expect(
      out.stderr.match(
        /^error \[LARDER_PORT_IN_USE\]: cannot listen on .*: another process is using it$/gm,
      ),
    ).toHaveLength(1);
    expect(out.stderr).not.toMatch(/\n\s+at /); // no stack trace
  }, 60_000);

  it('rejects a bad --workers with one line', async () => {
    const r = await run('node', ['bin/larder.js', 'serve', '--workers', '0']).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(r).toMatchObject({ code: 1 });
    expect((r as { stderr: string }).stderr.trim()).toMatch(
      /^error \[LARDER_BAD_REQUEST\]: --workers 0: not a number from 1 to 256\n {2}hint: /,
    );
  });
});

/**
 * Starts a throw-away local Redis Cluster for integration tests: three `redis-server
 * --cluster-enabled yes` masters on free loopback ports, joined with `redis-cli --cluster
 * create`, ready once every node reports `cluster_state:ok`. `stop()` kills the processes it
 * started (by their pid) and removes the data folder.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface LocalRedisCluster {
  nodes: { host: string; port: number }[];
  stop(): Promise<void>;
  /** Stops master `i` (SIGTERM; an outage of one node), resolving once it has exited. */
  stopNode(i: number): Promise<void>;
  /** Starts master `i` again (same port and cluster config: it rejoins with its slots, empty). */
  startNode(i: number): Promise<void>;
}

const portFree = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });

/** `count` consecutive free ports whose cluster bus ports (+10000) are free too. */
async function freePorts(count: number, from: number): Promise<number[]> {
  for (let base = from; base < from + 800; base += count) {
    const ports = Array.from({ length: count }, (_, i) => base + i);
    const ok = await Promise.all(ports.flatMap((p) => [portFree(p), portFree(p + 10000)]));
    if (ok.every(Boolean)) return ports;
  }
  throw new Error(`no ${count} free ports from ${from}`);
}

const cli = (port: number, ...args: string[]): string =>
  spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8', timeout: 5000 })
    .stdout ?? '';

async function waitFor(what: string, ok: () => boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

export async function startRedisCluster(masters = 3): Promise<LocalRedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'larder-cluster-'));
  const ports = await freePorts(masters, 7101 + Math.floor(Math.random() * 40) * masters);
  const spawnNode = (port: number): ChildProcess =>
    spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        `nodes-${port}.conf`,
        '--dir',
        dir,
        '--save',
        '',
        '--appendonly',
        'no',
        '--logfile',
        join(dir, `redis-${port}.log`),
      ],
      { stdio: 'ignore' },
    );
  const procs: ChildProcess[] = ports.map(spawnNode);
  const stop = async (): Promise<void> => {
    const live = procs.filter((p) => p.exitCode === null && p.signalCode === null);
    const exited = live.map((p) => new Promise((r) => p.once('exit', r)));
    for (const p of live) if (p.pid) process.kill(p.pid, 'SIGTERM');
    await Promise.all(exited);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports)
      await waitFor(`redis-server on ${port}`, () => cli(port, 'ping').trim() === 'PONG');
    const create = spawnSync(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...ports.map((p) => `127.0.0.1:${p}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      { encoding: 'utf8', timeout: 30_000 },
    );
    if (create.status !== 0)
      throw new Error(`redis-cli --cluster create failed: ${create.stdout}${create.stderr}`);
    for (const port of ports)
      await waitFor(`cluster_state:ok on ${port}`, () =>
        cli(port, 'cluster', 'info').includes('cluster_state:ok'),
      );
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    nodes: ports.map((port) => ({ host: '127.0.0.1', port })),
    stop,
    async stopNode(i) {
      const p = procs[i]!;
      if (p.exitCode !== null || p.signalCode !== null) return;
      const exited = new Promise((r) => p.once('exit', r));
      process.kill(p.pid!, 'SIGTERM');
      await exited;
    },
    async startNode(i) {
      const port = ports[i]!;
      procs[i] = spawnNode(port);
      await waitFor(`redis-server on ${port}`, () => cli(port, 'ping').trim() === 'PONG');
      await waitFor(`cluster_state:ok on ${port}`, () =>
        cli(port, 'cluster', 'info').includes('cluster_state:ok'),
      );
    },
  };
}

/**
 * Starts a throw-away local Redis Cluster for integration tests: three `redis-server
 * --cluster-enabled yes` masters on free loopback ports (and, with `replicas`, that many
 * replicas per master), joined with `redis-cli --cluster create`, ready once every node reports
 * `cluster_state:ok`. `stop()` kills the processes it started (by their pid) and removes the
 * data folder.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface LocalRedisCluster {
  /** The masters as created (with replicas: the first `masters` ports). */
  nodes: { host: string; port: number }[];
  /** Every node's port, masters first, then replicas. */
  ports: number[];
  /** Kills the node on `port` with SIGKILL (a crash), resolving once it has exited. */
  killPort(port: number): Promise<void>;
  /** Starts the node on `port` again with its cluster config (it rejoins the cluster). */
  restartPort(port: number): Promise<void>;
  /** `CLUSTER NODES` as seen from `port`: each node's port, role, failure flag and slots. */
  roles(port: number): ClusterNode[];
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

export interface ClusterNode {
  port: number;
  role: 'master' | 'slave';
  /** Flagged `fail` (or `fail?`) by the node asked. */
  failed: boolean;
  /** Slot ranges served (masters), inclusive. */
  slots: [number, number][];
}

export interface ClusterOptions {
  /** Replicas per master (default 0). */
  replicas?: number;
  /** `cluster-node-timeout`: how long a master may be unreachable before failover (default 15000). */
  nodeTimeoutMs?: number;
}

export async function startRedisCluster(
  masters = 3,
  options: ClusterOptions = {},
): Promise<LocalRedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'larder-cluster-'));
  const replicas = options.replicas ?? 0;
  const total = masters * (1 + replicas);
  const ports = await freePorts(total, 7101 + Math.floor(Math.random() * 40) * total);
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
        ...(options.nodeTimeoutMs ? ['--cluster-node-timeout', String(options.nodeTimeoutMs)] : []),
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
        String(replicas),
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
  if (replicas > 0)
    for (const port of ports)
      await waitFor(`replicas in sync on ${port}`, () => {
        const info = cli(port, 'info', 'replication');
        return info.includes('role:slave')
          ? info.includes('master_link_status:up')
          : info.includes(`connected_slaves:${replicas}`);
      });
  const procOf = (port: number): ChildProcess => procs[ports.indexOf(port)]!;
  return {
    nodes: ports.slice(0, masters).map((port) => ({ host: '127.0.0.1', port })),
    ports,
    async killPort(port) {
      const p = procOf(port);
      if (p.exitCode !== null || p.signalCode !== null) return;
      const exited = new Promise((r) => p.once('exit', r));
      process.kill(p.pid!, 'SIGKILL');
      await exited;
    },
    async restartPort(port) {
      const i = ports.indexOf(port);
      procs[i] = spawnNode(port);
      await waitFor(`redis-server on ${port}`, () => cli(port, 'ping').trim() === 'PONG');
    },
    roles(port) {
      return cli(port, 'cluster', 'nodes')
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => {
          const parts = line.trim().split(' ');
          const flags = parts[2] ?? '';
          return {
            port: Number(parts[1]!.split('@')[0]!.split(':')[1]),
            role: flags.includes('master') ? ('master' as const) : ('slave' as const),
            failed: flags.includes('fail'),
            slots: parts
              .slice(8)
              .filter((r) => /^\d+(-\d+)?$/.test(r))
              .map((r) => {
                const [from, to = from] = r.split('-').map(Number);
                return [from!, to!] as [number, number];
              }),
          };
        });
    },
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

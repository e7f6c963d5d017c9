/**
 * A throw-away `redis-server` on a free loopback port that a test may stop and start again
 * (the shared Redis on 6379 must never be stopped). A restart starts empty unless the server is
 * `persistent` (then `start({ empty: true })` drops its data).
 * `stop()` / `start()` act on the process this helper started, by its pid; `close()` ends it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface LocalRedis {
  port: number;
  url: string;
  /** Stops the server (SIGTERM, or `signal`) and resolves once it has exited. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /**
   * Starts it again on the same port; resolves when it answers PING. `empty`: a persistent
   * server's append-only file is removed first, so it starts without its data (as a replaced
   * disk would).
   */
  start(opts?: { empty?: boolean }): Promise<void>;
  /** Stops it for good. */
  close(): Promise<void>;
}

/** A port the OS reports free now. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });

export const redisCli = (port: number, ...args: string[]): string =>
  spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8', timeout: 5000 })
    .stdout ?? '';

export async function waitForPong(port: number, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (redisCli(port, 'ping').trim() !== 'PONG') {
    if (Date.now() > end) throw new Error(`redis-server on ${port} did not answer PING`);
    await sleep(50);
  }
}

/** Stops a child process this test started (by pid) and waits for its exit. */
export async function stopProcess(p: ChildProcess, signal: NodeJS.Signals = 'SIGTERM') {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise((r) => p.once('exit', r));
  process.kill(p.pid!, signal);
  await exited;
}

/**
 * `persistent`: an append-only file in a temp folder (removed by `close`), so a stop and start
 * keeps the data, as a production Redis restart would.
 */
export async function startRedisServer(opts: { persistent?: boolean } = {}): Promise<LocalRedis> {
  const port = await freePort();
  const dir = opts.persistent ? mkdtempSync(join(tmpdir(), 'larder-redis-')) : null;
  let proc: ChildProcess | null = null;
  const start = async ({ empty = false }: { empty?: boolean } = {}): Promise<void> => {
    if (empty && dir) {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir);
    }
    proc = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        ...(dir
          ? ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir]
          : ['--appendonly', 'no']),
      ],
      { stdio: 'ignore' },
    );
    await waitForPong(port);
  };
  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    if (proc) await stopProcess(proc, signal);
    proc = null;
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}/0`,
    start: (opts) => start(opts),
    stop,
    close: async () => {
      await stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * `larder serve` writes the feature log on SIGTERM: rows served just before the shutdown (long
 * before the 1 s flush timer) are in `$LARDER_DATA_DIR/logs/` when the process has exited.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { DuckDBClient } from '../../offline/local/duckdb-client.ts';
import { BASE_REPO, tempDir, tempRepo } from '../support/temp-repo.ts';
import { freePort, until } from '../support/wait.ts';

const run = promisify(execFile);
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const REPO = `${BASE_REPO.replace('import { batchSource,', 'import { featureService, batchSource,')}
export const logged = featureService({ name: 'logged', features: [activity], logging: {} });
`;

describe('feature logging at shutdown', () => {
  // One process, and a cluster (the primary asks each worker to drain). The cluster's exit code
  // is not checked here: on this machine `serve --workers 2` exits 1 on SIGTERM on main too.
  it.each([1, 2])(
    'SIGTERM drains the buffer to Parquet before serve exits (--workers %i)',
    async (workers) => {
      const repo = tempRepo({ 'repo.ts': REPO });
      cleanups.push(repo.cleanup);
      const home = tempDir();
      cleanups.push(home.cleanup);
      const data = join(home.dir, 'data');
      const env = { ...process.env, LARDER_HOME: home.dir, LARDER_DATA_DIR: data };
      await run('node', ['bin/larder.js', '--repo', repo.dir, 'apply'], { env });
      const port = await freePort();
      const child: ChildProcess = spawn(
        'node',
        [
          'bin/larder.js',
          '--repo',
          repo.dir,
          'serve',
          '--port',
          String(port),
          '--no-grpc',
          '--workers',
          String(workers),
        ],
        { env, stdio: ['ignore', 'ignore', 'pipe'] },
      );
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      cleanups.push(async () => {
        if (child.exitCode === null) child.kill('SIGKILL');
        await exited;
      });
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      const base = `http://127.0.0.1:${port}`;
      await until('the server', async () =>
        fetch(`${base}/ready`).then(
          (r) => (r.ok ? true : null),
          () => null,
        ),
      );
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${base}/get-online-features`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ feature_service: 'logged', entities: { user_id: [`u${i}`] } }),
        });
        expect(res.status).toBe(200);
      }
      child.kill('SIGTERM');
      const code = await exited;
      if (workers === 1) expect(code, stderr).toBe(0);
      const db = await DuckDBClient.open({});
      // Requests are spread over the workers: each wrote its own file.
      const rows = await db.all(
        `SELECT entities FROM read_parquet('${join(data, 'logs', 'logged')}/*.parquet') ORDER BY entities`,
      );
      db.close();
      expect(rows.map((r) => JSON.parse(r.entities as string).user_id)).toEqual(['u0', 'u1', 'u2']);
    },
    60_000,
  );
});

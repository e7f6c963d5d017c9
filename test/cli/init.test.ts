/**
 * `larder init DIR` scaffolds a repository that `apply`, `materialize` and `serve` run on at
 * once, in DIR, with this checkout's bin/larder.js; the served values are the sample data's.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../support/temp-repo.ts';
import { freePort, until } from '../support/wait.ts';

const run = promisify(execFile);
const BIN = resolve(import.meta.dirname, '../../bin/larder.js');
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function larder(
  args: string[],
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  // The scaffold's larder.config.ts names every folder: no LARDER_* variable may override it.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('LARDER_')),
  );
  try {
    const r = await run('node', [BIN, ...args], { cwd, env });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

describe('larder init', () => {
  it('scaffolds a repository that apply, materialize and serve run on at once', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const dir = join(tmp.dir, 'shop');
    const init = await larder(['init', dir], process.cwd());
    expect(init.code).toBe(0);
    expect(init.stdout).toContain('features/views.ts');
    const orders = readFileSync(join(dir, 'data/raw/orders/orders.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { customerId: string; amount: number; ts: number });
    expect(orders).toHaveLength(7);
    const now = Date.now();
    expect(orders.every((o) => o.ts <= now && o.ts > now - 11 * 24 * 3600_000)).toBe(true);

    const apply = await larder(['apply'], dir);
    expect(apply.stdout).toContain('Plan: 5 to add, 0 to change, 0 to remove, 0 unchanged.');
    expect(apply.code).toBe(0);
    const mat = await larder(['materialize', '--end', 'now', '--json'], dir);
    expect(mat.code).toBe(0);
    expect(JSON.parse(mat.stdout).views[0]).toMatchObject({ view: 'customer_orders', rejects: [] });

    const port = await freePort();
    const child: ChildProcess = spawn('node', [BIN, 'serve', '--port', String(port), '--no-grpc'], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise((r) => child.once('exit', r));
    cleanups.push(async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    });
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
        feature_service: 'customer_stats',
        entities: { customer_id: ['c1', 'c2', 'c3', 'c4'] },
      }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      metadata: { feature_names: string[] };
      results: { values: unknown[]; statuses: string[] }[];
    };
    const column = (name: string): unknown[] =>
      body.results[body.metadata.feature_names.indexOf(name)]!.values;
    expect(body.metadata.feature_names).toEqual([
      'customer_id',
      'orders_24h',
      'spend_7d',
      'last_amount',
    ]);
    // c1: orders 2h, 5h, 30h and 10d ago; c2: 3h and 50h; c3: 200h; c4: none.
    expect(column('customer_id')).toEqual(['c1', 'c2', 'c3', 'c4']);
    expect(column('orders_24h')).toEqual([2, 1, 0, 0]);
    expect(column('spend_7d')).toEqual([82.5, 28, 0, 0]);
    expect(column('last_amount')).toEqual([30, 8, 55, null]);
    expect(body.results[3]!.statuses).toEqual(['PRESENT', 'PRESENT', 'PRESENT', 'NOT_FOUND']);
  });

  it('refuses a non-empty folder unless --force, in one line', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    writeFileSync(join(tmp.dir, 'notes.txt'), 'mine');
    const refused = await larder(['init', tmp.dir], process.cwd());
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      `error [LARDER_BAD_REQUEST]: ${tmp.dir} is not empty (notes.txt)`,
    );
    expect(refused.stderr).toContain('pass --force');
    const forced = await larder(['init', tmp.dir, '--force'], process.cwd());
    expect(forced.code).toBe(0);
    expect(readFileSync(join(tmp.dir, 'notes.txt'), 'utf8')).toBe('mine');
    expect(readFileSync(join(tmp.dir, 'larder.config.ts'), 'utf8')).toContain(
      "import { defineConfig } from 'larder/config';",
    );
    const file = await larder(['init', join(tmp.dir, 'notes.txt')], process.cwd());
    expect(file.code).toBe(1);
    expect(file.stderr).toContain('notes.txt is a file, not a folder');
  });

  it('writes into an npm project root: package.json, node_modules and .git do not count', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    writeFileSync(join(tmp.dir, 'package.json'), '{"name":"shop","private":true}');
    mkdirSync(join(tmp.dir, 'node_modules'));
    mkdirSync(join(tmp.dir, '.git'));
    const r = await larder(['init'], tmp.dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('larder: wrote a feature repository in .:');
    expect(readFileSync(join(tmp.dir, 'package.json'), 'utf8')).toBe(
      '{"name":"shop","private":true}',
    );
    expect(readdirSync(join(tmp.dir, 'features')).sort()).toEqual([
      'entities.ts',
      'services.ts',
      'sources.ts',
      'views.ts',
    ]);
    // Here (a project without larder installed) the new larder.config.ts cannot load: one line.
    const plan = await larder(['plan'], tmp.dir);
    expect(plan.code).toBe(1);
    expect(plan.stderr).toContain(
      "larder.config.ts failed to load: Cannot find module 'larder/config'",
    );
    expect(plan.stderr).toContain('hint: install larder in this project');
    // Without package.json the folder is part of this checkout, where 'larder' resolves.
    rmSync(join(tmp.dir, 'package.json'));
    const again = await larder(['init'], tmp.dir);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(
      /is not empty \((\.gitignore|README\.md|data|features|larder\.config\.ts)\)/,
    );
  });
});

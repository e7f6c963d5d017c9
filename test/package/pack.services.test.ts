/**
 * The packed package works from another folder: `npm pack` this checkout, unpack the tarball as
 * `node_modules/larder` of a temporary project outside the checkout, and run the installed bin
 * there — `init`, `plan`, `apply`, `materialize`, `serve` and one read — and the in-process API
 * (`import { openFeatureStore } from 'larder/store'`).
 *
 * The project's other dependencies are symlinks to this checkout's `node_modules`, only the
 * packages package-lock.json does not mark `dev` (so a runtime import of a devDependency
 * fails here): `npm install` of the tarball would run better-sqlite3's install script, which
 * fetches its prebuilt binary from GitHub (or builds it with node-gyp), outside the npm registry.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/wait.ts';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
let tmp: string;
let project: string;
let packed: string[];

/** The environment without LARDER_* (the scaffold's larder.config.ts names every folder). */
const env = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !k.startsWith('LARDER_')),
);

function linkRuntimeDependencies(nodeModules: string): void {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean }>;
  };
  const source = join(ROOT, 'node_modules');
  for (const name of readdirSync(source)) {
    if (name.startsWith('.')) continue;
    const names = name.startsWith('@')
      ? readdirSync(join(source, name)).map((s) => `${name}/${s}`)
      : [name];
    for (const full of names) {
      const entry = lock.packages[`node_modules/${full}`];
      if (!entry || entry.dev) continue;
      const target = join(nodeModules, full);
      mkdirSync(dirname(target), { recursive: true });
      symlinkSync(realpathSync(join(source, full)), target);
    }
  }
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'larder-pack-'));
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', tmp], {
    cwd: ROOT,
  });
  const info = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
  packed = info[0]!.files.map((f) => f.path);
  project = join(tmp, 'project');
  const nodeModules = join(project, 'node_modules');
  mkdirSync(join(nodeModules, 'larder'), { recursive: true });
  await run('tar', [
    'xzf',
    join(tmp, info[0]!.filename),
    '-C',
    join(nodeModules, 'larder'),
    '--strip-components=1',
  ]);
  linkRuntimeDependencies(nodeModules);
  mkdirSync(join(nodeModules, '.bin'));
  symlinkSync('../larder/bin/larder.js', join(nodeModules, '.bin', 'larder'));
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'shop', private: true, type: 'module' }),
  );
}, 180_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function larder(args: string[], cwd: string): Promise<string> {
  const r = await run(join(project, 'node_modules/.bin/larder'), args, { cwd, env });
  return r.stdout;
}

describe('the packed package', () => {
  it('holds the product (with its Lua scripts and protos), not the tests or the example', () => {
    expect(packed).toContain('bin/larder.js');
    expect(packed).toContain('store/feature-store.ts');
    expect(packed).toContain('online/redis/lua/set-fields.lua');
    expect(packed).toContain('api/grpc/protos/feast/serving/ServingService.proto');
    expect(packed.filter((p) => /^(test|examples|bench|scripts)\//.test(p))).toEqual([]);
  });

  it('runs init, plan, apply, materialize and serve in another folder', async () => {
    expect(await larder(['init', 'shop'], project)).toContain('features/views.ts');
    const shop = join(project, 'shop');
    expect(await larder(['plan'], shop)).toContain(
      'Plan: 5 to add, 0 to change, 0 to remove, 0 unchanged.',
    );
    expect(await larder(['apply'], shop)).toContain('Applied registry version 1');
    const mat = JSON.parse(await larder(['materialize', '--end', 'now', '--json'], shop)) as {
      views: { view: string; rejects: unknown[] }[];
    };
    expect(mat.views).toMatchObject([{ view: 'customer_orders', rejects: [] }]);

    const port = await freePort();
    const child: ChildProcess = spawn(
      join(project, 'node_modules/.bin/larder'),
      ['serve', '--port', String(port), '--no-grpc'],
      { cwd: shop, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const exited = new Promise((r) => child.once('exit', r));
    try {
      const base = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + 60_000;
      while (
        !(await fetch(`${base}/ready`).then(
          (r) => r.ok,
          () => false,
        ))
      ) {
        if (Date.now() > deadline || child.exitCode !== null)
          throw new Error('serve did not start');
        await new Promise((r) => setTimeout(r, 100));
      }
      const res = await fetch(`${base}/get-online-features`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          feature_service: 'customer_stats',
          entities: { customer_id: ['c1', 'c2'] },
        }),
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { results: { values: unknown[] }[] };
      expect(body.results.map((r) => r.values)).toEqual([
        ['c1', 'c2'],
        [2, 1],
        [82.5, 28],
        [30, 8],
      ]);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }

    // The in-process API, imported by package name from the project.
    writeFileSync(
      join(shop, 'read.ts'),
      `import { openFeatureStore } from 'larder/store';
const store = await openFeatureStore();
const res = await store.getOnlineFeatures({ service: 'customer_stats', entities: { customer_id: ['c1'] } });
console.log(JSON.stringify(res.columns.map((c) => [c.name, c.values[0]])));
await store.close();
`,
    );
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'read.ts'], {
      cwd: shop,
      env,
    });
    expect(JSON.parse(stdout)).toEqual([
      ['customer_id', 'c1'],
      ['orders_24h', 2],
      ['spend_7d', 82.5],
      ['last_amount', 30],
    ]);
  }, 240_000);
});

/**
 * The packed package works from another folder: `npm pack` this checkout, `npm install` the
 * tarball into a temporary project outside the checkout (dependencies from the npm registry, as a
 * user gets them), and run the installed bin there — `init`, `plan`, `apply`, `materialize`,
 * `serve` and one read — and the in-process API (`import { openFeatureStore } from 'larder/store'`).
 *
 * better-sqlite3's install script downloads its prebuilt binary from GitHub, which this machine
 * cannot reach; prebuild-install's documented local-prebuild option
 * (`npm_config_better_sqlite3_local_prebuilds`) hands it the binary this checkout already built,
 * packed under the name prebuild-install looks for, instead of compiling it again with node-gyp.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/wait.ts';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
let tmp: string;
let project: string;
let packed: string[];
let installLog: string;

/** The environment without LARDER_* (the scaffold's larder.config.ts names every folder). */
const env = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !k.startsWith('LARDER_')),
);

/** This checkout's better-sqlite3 binary as the prebuild tarball prebuild-install looks for. */
async function localPrebuilds(dir: string): Promise<string> {
  const pkg = JSON.parse(
    readFileSync(join(ROOT, 'node_modules/better-sqlite3/package.json'), 'utf8'),
  ) as { version: string };
  const prebuilds = join(dir, 'prebuilds');
  mkdirSync(prebuilds);
  const name = `better-sqlite3-v${pkg.version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  await run('tar', ['czf', join(prebuilds, name), 'build/Release/better_sqlite3.node'], {
    cwd: join(ROOT, 'node_modules/better-sqlite3'),
  });
  return prebuilds;
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'larder-pack-'));
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', tmp], {
    cwd: ROOT,
  });
  const info = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
  packed = info[0]!.files.map((f) => f.path);
  project = join(tmp, 'project');
  mkdirSync(project);
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'shop', private: true, type: 'module' }),
  );
  // The user's .npmrc: onnxruntime-node's optional CUDA download is off, as in this checkout.
  writeFileSync(join(project, '.npmrc'), 'onnxruntime-node-install=skip\n');
  const install = await run(
    'npm',
    ['install', join(tmp, info[0]!.filename), '--prefer-offline', '--foreground-scripts'],
    {
      cwd: project,
      env: {
        ...env,
        npm_config_better_sqlite3_local_prebuilds: await localPrebuilds(tmp),
        npm_config_audit: 'false',
        npm_config_fund: 'false',
      },
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  installLog = install.stdout + install.stderr;
}, 300_000);
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

  it('installs with npm on Node 20 without engine warnings or a native build', () => {
    expect(installLog).toContain('added ');
    expect(installLog).not.toContain('EBADENGINE');
    expect(installLog).not.toMatch(/gyp info|CXX\(target\)/);
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
      const deadline = performance.now() + 60_000;
      while (
        !(await fetch(`${base}/ready`).then(
          (r) => r.ok,
          () => false,
        ))
      ) {
        if (performance.now() > deadline || child.exitCode !== null)
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

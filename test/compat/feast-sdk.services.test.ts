/**
 * Feast's own client, unchanged, against a real `larder serve`: the pinned `feast` package
 * (bench/peers/feast/requirements.txt, installed by bench/peers/feast/setup.sh into
 * .cache/peers/feast-venv, shared with the peer benchmark) runs test/compat/feast_client.py,
 * which uses `FeatureStore` with `online_store: {type: remote}` for a feature list and a
 * feature service, posts Feast's push request model to /push, reads through Feast's generated
 * gRPC stubs, and provokes errors. Asserted here: values, statuses, event timestamps, and the
 * class of every exception Feast's SDK raised.
 *
 * Skipped, saying why, only when the venv is missing and PyPI cannot be reached.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PUSH_REPO } from '../api/serve-fixture.ts';
import { tempDir, tempRepo } from '../support/temp-repo.ts';
import { freePort } from '../support/wait.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const PYTHON = join(ROOT, '.cache/peers/feast-venv/bin/python');
const run = promisify(execFile);

/** The served repository: the test base repository, fed by a push source, with a service. */
const REPO = `${PUSH_REPO.replace('import { pushSource,', 'import { featureService, pushSource,')}
export const activityV1 = featureService({ name: 'activity_v1', features: [activity] });
`;

/** Makes (or finds up to date) the pinned venv; a reason to skip when PyPI is unreachable. */
async function feastVenv(): Promise<string | null> {
  const r = spawnSync('bash', [join(ROOT, 'bench/peers/feast/setup.sh')], {
    encoding: 'utf8',
    timeout: 15 * 60_000,
  });
  if (r.status === 0) return null;
  const reachable = await fetch('https://pypi.org/simple/feast/', {
    method: 'HEAD',
    signal: AbortSignal.timeout(10_000),
  }).then(
    (res) => res.ok,
    () => false,
  );
  if (reachable)
    throw new Error(`bench/peers/feast/setup.sh failed:\n${r.stderr}\n${r.stdout}`.slice(0, 4000));
  return 'PyPI cannot be reached and .cache/peers/feast-venv is not set up';
}

const skipReason = await feastVenv();
if (skipReason) console.warn(`feast-sdk compat suite skipped: ${skipReason}`);

type Outcome<T> = { ok: T } | { error: string; module: string; message: string };
interface SdkRead {
  names: string[];
  values: Record<string, unknown[]>;
  statuses: Record<string, string[]>;
}
interface GrpcRead {
  version: string;
  names: string[];
  results: { values: unknown[]; statuses: string[]; event_timestamps: number[] }[];
}
interface ClientOutput {
  push: { status: number; sent: string[]; body: unknown };
  features: Outcome<SdkRead>;
  service: Outcome<SdkRead>;
  feature_row_push: Outcome<null>;
  online_read: Record<string, Outcome<{ event_ts_ms: number; values: Record<string, unknown> }>>;
  errors: Record<string, Outcome<SdkRead>> & {
    unknown_push_source: { status: number; error: string | null; message: string | null };
  };
  grpc: {
    features: Outcome<GrpcRead>;
    service: Outcome<GrpcRead>;
    unknown_view: { code: string; details: string };
    unknown_service: { code: string; details: string };
  };
}

const ok = <T>(o: Outcome<T>): T => {
  if ('error' in o) throw new Error(`Feast's client raised ${o.error}: ${o.message}`);
  return o.ok;
};

const MIN = 60_000;

describe.skipIf(skipReason !== null)("Feast's SDK and gRPC stubs against larder serve", () => {
  let out: ClientOutput;
  let now: number;
  let child: ChildProcess | undefined;
  let exited: Promise<unknown> = Promise.resolve();
  const cleanups: (() => void)[] = [];

  beforeAll(async () => {
    const repo = tempRepo({ 'repo.ts': REPO });
    const home = tempDir();
    const work = tempDir();
    cleanups.push(repo.cleanup, home.cleanup, work.cleanup);
    const env = { ...process.env, LARDER_HOME: home.dir };
    await run('node', ['bin/larder.js', '--repo', repo.dir, 'apply'], { env, cwd: ROOT });
    const [http, grpcPort] = [await freePort(), await freePort()];
    child = spawn(
      'node',
      [
        'bin/larder.js',
        '--repo',
        repo.dir,
        'serve',
        '--port',
        String(http),
        '--grpc-port',
        String(grpcPort),
      ],
      { env, cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    exited = new Promise((r) => child!.once('exit', r));
    const base = `http://127.0.0.1:${http}`;
    const deadline = performance.now() + 60_000;
    while (
      !(await fetch(`${base}/ready`).then(
        (r) => r.ok,
        () => false,
      ))
    ) {
      if (performance.now() > deadline || child.exitCode !== null)
        throw new Error(`larder serve did not get ready: ${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    // Whole seconds: event timestamps then compare exactly (the wire keeps milliseconds).
    now = Math.floor(Date.now() / 1000) * 1000;
    const py = await run(
      PYTHON,
      [
        join(ROOT, 'test/compat/feast_client.py'),
        '--http',
        base,
        '--grpc',
        `127.0.0.1:${grpcPort}`,
        '--work',
        work.dir,
        '--now-ms',
        String(now),
      ],
      { cwd: work.dir, maxBuffer: 16 << 20, timeout: 300_000 },
    ).catch((e: { stderr?: string; message: string }) => {
      throw new Error(`feast_client.py failed: ${e.stderr ?? e.message}`);
    });
    out = JSON.parse(py.stdout) as ClientOutput;
  });

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGTERM');
    await exited;
    for (const c of cleanups) c();
  });

  it("accepts Feast's push request model (transform_on_write, allow_registry_cache)", () => {
    expect(out.push.sent).toEqual(
      expect.arrayContaining(['transform_on_write', 'allow_registry_cache', 'to']),
    );
    expect(out.push.status).toBe(200);
    expect(out.push.body).toEqual({ rows: 4, views: ['activity'], file: null });
  });

  const VALUES = {
    user_id: ['u1', 'u2', 'nobody'],
    clicks_1h: [2, 0, 0],
    spend_7d: [7.5, 7, 0],
    last_kind: ['view', 'view', null],
  };
  // An unknown entity: NOT_FOUND for every feature (the join key itself is PRESENT), as Feast
  // answers it; its windowed count and sum read 0 (Larder's empty window), Feast's would be null.
  const STATUSES = {
    user_id: ['PRESENT', 'PRESENT', 'PRESENT'],
    clicks_1h: ['PRESENT', 'PRESENT', 'NOT_FOUND'],
    spend_7d: ['PRESENT', 'PRESENT', 'NOT_FOUND'],
    last_kind: ['PRESENT', 'PRESENT', 'NOT_FOUND'],
  };

  it.each(['features', 'service'] as const)(
    'FeatureStore.get_online_features (%s) through the remote online store',
    (which) => {
      const r = ok(out[which]);
      expect(r.names).toEqual(['user_id', 'clicks_1h', 'spend_7d', 'last_kind']);
      expect(r.values).toEqual(VALUES);
      expect(r.statuses).toEqual(STATUSES);
    },
  );

  it("event timestamps over REST, as Feast's RemoteOnlineStore.online_read parses them", () => {
    expect(ok(out.online_read['u1']!)).toEqual({
      event_ts_ms: now - 2 * MIN,
      values: { last_kind: { string_val: 'view' } },
    });
    expect(ok(out.online_read['u2']!).event_ts_ms).toBe(now - 3 * MIN);
  });

  it.each([
    ['unknown_view', 'FeatureViewNotFoundException', /unknown feature view "nope"/],
    ['unknown_feature', 'FeastObjectNotFoundException', /has no feature "nope"/],
    ['unknown_service', 'FeatureServiceNotFoundException', /unknown feature service "nope"/],
    ['bad_entity', 'FeastError', /not a valid string for "user_id"/],
  ])("%s: Feast's SDK raises feast.errors.%s", (name, cls, message) => {
    const o = out.errors[name]!;
    expect(o).toMatchObject({ error: cls, module: 'feast.errors' });
    expect('message' in o ? o.message : '').toMatch(message);
  });

  it("an unknown push source maps to Feast's PushSourceNotFoundException", () => {
    expect(out.errors.unknown_push_source).toEqual({
      status: 404,
      error: 'PushSourceNotFoundException',
      message: 'unknown push source "nope"',
    });
  });

  it('a feature-row push (FeatureStore.push → /write-to-online-store) is not served', () => {
    expect(out.feature_row_push).toMatchObject({ error: 'RuntimeError' });
    expect('message' in out.feature_row_push ? out.feature_row_push.message : '').toMatch(
      /Error_code=404/,
    );
  });

  it.each(['features', 'service'] as const)(
    "Feast's generated gRPC stubs (%s): values, statuses, event timestamps",
    (which) => {
      const r = ok(out.grpc[which]);
      expect(r.names).toEqual(['user_id', 'clicks_1h', 'spend_7d', 'last_kind']);
      const [keys, clicks, spend, last] = r.results;
      expect(keys!.values).toEqual(VALUES.user_id.map((u) => ({ string_val: u })));
      expect(clicks!.values).toEqual(VALUES.clicks_1h.map((v) => ({ int64_val: v })));
      expect(spend!.values).toEqual(VALUES.spend_7d.map((v) => ({ double_val: v })));
      expect(last!.values).toEqual([{ string_val: 'view' }, { string_val: 'view' }, null]);
      expect(r.results.map((x) => x.statuses)).toEqual(Object.values(STATUSES));
      // Join keys and NOT_FOUND values carry no event time (the epoch, as in Feast).
      expect(keys!.event_timestamps).toEqual([0, 0, 0]);
      expect(last!.event_timestamps).toEqual([now - 2 * MIN, now - 3 * MIN, 0]);
      // A window's value is stamped within the window, never after the read.
      for (const col of [clicks!, spend!]) {
        expect(col.event_timestamps[2]).toBe(0);
        expect(col.event_timestamps[0]).toBeGreaterThan(now - 7 * 24 * 60 * MIN);
        expect(col.event_timestamps[0]).toBeLessThanOrEqual(now + MIN);
      }
    },
  );

  it('gRPC errors: unknown view and service are NOT_FOUND', () => {
    expect(out.grpc.unknown_view).toMatchObject({ code: 'NOT_FOUND' });
    expect(out.grpc.unknown_view.details).toMatch(/unknown feature view "nope"/);
    expect(out.grpc.unknown_service).toMatchObject({ code: 'NOT_FOUND' });
  });
});

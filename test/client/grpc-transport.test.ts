/**
 * The generated client's gRPC transport (`larder codegen --grpc`): the files it writes, the
 * same answer over REST and gRPC for a service read with unknown entities, and its errors (an
 * expired deadline, no server, a missing API key, a service not in the client).
 */
import * as grpc from '@grpc/grpc-js';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGrpcServer, startGrpcServer } from '../../api/grpc/grpc-server.ts';
import { generateClient } from '../../client/codegen.ts';
import type { ClientOptions, LarderClient, ServiceShape } from '../../client/runtime.ts';
import { loadRepository } from '../../definitions/load.ts';
import { EVENTS, TRANSACTIONS } from '../api/ecommerce-data.ts';
import { serveRepo, type Served } from '../api/serve-fixture.ts';
import { freePort } from '../support/wait.ts';
import { tempDir, tempRepo } from '../support/temp-repo.ts';
import { typeCheck } from './type-check.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const FEATURES = join(ROOT, 'examples/ecommerce/features');
const run = promisify(execFile);

type Generated = {
  createClient(o: ClientOptions): LarderClient<Record<string, ServiceShape>>;
  FIELD_TYPES: unknown;
};

/** Writes the generated files into `dir`, which resolves @grpc/* like a user's project. */
function writeClient(dir: string, files: { path: string; text: string }[]): void {
  for (const f of files) {
    mkdirSync(dirname(join(dir, f.path)), { recursive: true });
    writeFileSync(join(dir, f.path), f.text);
  }
  if (!existsSync(join(dir, 'node_modules')))
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
}

/** An int64 join key and float64, bool and int64 request fields: each travels as its own Value. */
const TYPED_REPO = `
import { z } from 'zod';
import { batchSource, col, entity, feature, featureService, featureView, onDemandFeatureView, requestField, sum } from 'larder';
export const store = entity({ name: 'store', joinKey: 'store_id', valueType: 'int64' });
export const sales = batchSource({
  name: 'sales',
  schema: z.object({ id: z.string(), storeId: z.number().int(), amount: z.number(), ts: z.number().int() }),
  timestampField: 'ts',
  idField: 'id',
});
export const revenue = featureView({
  name: 'revenue', entities: [store], source: sales, keys: { store_id: col('storeId') }, ttl: '30d',
  features: { revenue_7d: sum(col('amount'), { window: '7d' }) },
});
export const priced = onDemandFeatureView({
  name: 'priced',
  entities: [store],
  inputs: {
    price: requestField('price', 'float64'),
    qty: requestField('qty', 'int64'),
    vip: requestField('vip', 'bool'),
    revenue: feature(revenue, 'revenue_7d', 'float64'),
  },
  features: { total: 'float64', vip_seen: 'bool' },
  transform: ({ price, qty, vip }) => ({
    total: price.map((p, i) => (p === null || qty[i] === null ? null : p * qty[i]!)),
    vip_seen: vip.map((v) => v),
  }),
});
export const pricing = featureService({ name: 'pricing', features: [revenue, priced] });
`;

describe('generateClient with grpc', () => {
  it('adds grpc-transport.ts (importing ./runtime.js) and the protos; REST-only does not', async () => {
    const repo = await loadRepository(FEATURES);
    const files = generateClient(repo, { grpc: true });
    expect(files.map((f) => f.path)).toEqual([
      'client.ts',
      'runtime.ts',
      'grpc-transport.ts',
      'protos/feast/serving/ServingService.proto',
      'protos/feast/types/Value.proto',
    ]);
    const transport = readFileSync(join(ROOT, 'client/grpc-transport.ts'), 'utf8');
    expect(files[2]!.text).toBe(transport.replace("from './runtime.ts';", "from './runtime.js';"));
    expect(files[2]!.text).not.toContain("'./runtime.ts'");
    expect(files[3]!.text).toBe(
      readFileSync(join(ROOT, 'api/grpc/protos/feast/serving/ServingService.proto'), 'utf8'),
    );
    expect(files[0]!.text).toContain("import { GrpcTransport } from './grpc-transport.js';\n");
    expect(files[0]!.text).toContain(
      "export const FIELD_TYPES = {\n  batch_v1: { joinKeys: { user_id: 'string', product_id: 'string' }, requestFields: {} },\n  recommendation_v1: { joinKeys: { user_id: 'string', product_id: 'string' }, requestFields: {} },\n  recommendation_v2: { joinKeys: { user_id: 'string', product_id: 'string' }, requestFields: {} },\n  risk_v1: { joinKeys: { user_id: 'string' }, requestFields: {} },\n} as const;\n",
    );
    const rest = generateClient(repo);
    expect(rest.map((f) => f.path)).toEqual(['client.ts', 'runtime.ts']);
    expect(rest[0]!.text).not.toContain('grpc-transport');
    expect(rest[0]!.text).toContain('export const FIELD_TYPES = {');
  });

  it('type-checks in a strict NodeNext project that has @grpc/grpc-js and @grpc/proto-loader', async () => {
    const t = tempDir();
    try {
      writeClient(t.dir, generateClient(await loadRepository(FEATURES), { grpc: true }));
      writeFileSync(
        join(t.dir, 'usage.ts'),
        `import { createClient } from './client.js';
const client = createClient({ url: 'http://127.0.0.1:8566', transport: 'grpc', grpcAddress: '127.0.0.1:6570' });
export async function use(): Promise<number | null> {
  const r = await client.getOnlineFeatures('recommendation_v1', [{ user_id: 'u1', product_id: 'p1' }]);
  client.close();
  return r.columns.page_views_1h.values[0] ?? null;
}
`,
      );
      writeFileSync(join(t.dir, 'package.json'), '{"type":"module"}');
      const out = await typeCheck(t.dir, [
        'client.ts',
        'runtime.ts',
        'grpc-transport.ts',
        'usage.ts',
      ]);
      expect(out).toBe('');
    } finally {
      t.cleanup();
    }
  }, 60_000);

  it('larder codegen --grpc writes the gRPC files', async () => {
    const home = tempDir();
    const out = join(home.dir, 'client');
    try {
      const r = await run('node', ['bin/larder.js', 'codegen', '--out', out, '--grpc'], {
        cwd: ROOT,
        env: { ...process.env, LARDER_HOME: home.dir },
      });
      const paths = generateClient(await loadRepository(FEATURES), { grpc: true }).map(
        (f) => f.path,
      );
      expect(r.stdout).toBe(
        `Wrote ${paths.map((p) => join(out, p)).join(', ')} (4 feature services).\n`,
      );
      for (const p of paths) expect(existsSync(join(out, p))).toBe(true);
    } finally {
      home.cleanup();
    }
  }, 60_000);
});

describe('the gRPC transport against larder serve', () => {
  let s: Served;
  let server: grpc.Server;
  let url: string;
  let grpcAddress: string;
  let gen: Generated;
  let restOnly: Generated;
  let key: string;
  let out: { dir: string; cleanup: () => void };
  let silent: Server;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    s = await serveRepo(FEATURES);
    await s.app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(s.app.server.address() as AddressInfo).port}`;
    server = createGrpcServer(s.ctx);
    grpcAddress = `127.0.0.1:${await startGrpcServer(server, '127.0.0.1', 0)}`;
    out = tempDir();
    writeClient(join(out.dir, 'grpc'), generateClient(s.repo, { grpc: true }));
    writeClient(join(out.dir, 'rest'), generateClient(s.repo));
    gen = (await import(pathToFileURL(join(out.dir, 'grpc/client.ts')).href)) as Generated;
    restOnly = (await import(pathToFileURL(join(out.dir, 'rest/client.ts')).href)) as Generated;
    key = s.ctx.keys.create({ scopes: ['read', 'push'] }).key;
    const pusher = gen.createClient({ url, apiKey: key });
    await pusher.push('user_events', EVENTS);
    await pusher.push('transactions', TRANSACTIONS);
    pusher.close();
    // Accepts connections and never answers: every call waits until its deadline.
    silent = createServer((c) => sockets.push(c));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  });
  afterAll(async () => {
    for (const c of sockets) c.destroy();
    await new Promise<void>((r) => (silent ? silent.close(() => r()) : r()));
    await new Promise<void>((r) => (server ? server.tryShutdown(() => r()) : r()));
    await s?.close();
    out?.cleanup();
  });

  it('answers exactly what REST answers, unknown entities included', async () => {
    const rows = [
      { user_id: 'u1', product_id: 'p1' },
      { user_id: 'u1', product_id: 'p2' },
      { user_id: 'u2', product_id: 'p3' },
      { user_id: 'nobody', product_id: 'p1' },
      { user_id: 'u2', product_id: 'nothing' },
    ];
    const rest = gen.createClient({ url, apiKey: key });
    const overGrpc = gen.createClient({ url, apiKey: key, transport: 'grpc', grpcAddress });
    try {
      // push is not part of ServingService: it goes over REST even on a gRPC client.
      const pushed = await overGrpc.push('transactions', TRANSACTIONS.slice(0, 1));
      expect(pushed).toMatchObject({ rows: 1, replayed: false });
      const a = await rest.getOnlineFeatures('recommendation_v1', rows);
      const b = await overGrpc.getOnlineFeatures('recommendation_v1', rows);
      expect(b).toEqual(a);
      expect(b.names).toEqual(a.names);
      // The read is real: present values, unknown entities and event times are in it.
      expect(b.columns['page_views_1h']!.values[0]).toBe(2);
      expect(b.columns['page_views_1h']!.statuses[3]).toBe('NOT_FOUND');
      expect(b.columns['page_views_1h']!.event_timestamps[0]).toMatch(
        /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$/,
      );
      expect(b.columns['page_views_1h']!.event_timestamps[0]).not.toBe('1970-01-01T00:00:00Z');
      // A null join key (sent as an empty Value) is refused over both with the same error.
      const bad = [{ user_id: null as unknown as string, product_id: 'p1' }];
      const restError = await rest.getOnlineFeatures('recommendation_v1', bad).catch((x) => x);
      const grpcError = await overGrpc
        .getOnlineFeatures('recommendation_v1', bad)
        .catch((x: unknown) => x);
      expect(restError).toMatchObject({ code: 'LARDER_BAD_REQUEST', status: 400 });
      expect(grpcError).toMatchObject({
        code: 'LARDER_BAD_REQUEST',
        grpcCode: grpc.status.INVALID_ARGUMENT,
        message: (restError as Error).message,
        field: (restError as { field: string }).field,
        hint: (restError as { hint: string }).hint,
      });
    } finally {
      rest.close();
      overGrpc.close();
    }
  });

  it('encodes int64, float64 and bool fields by their declared types: the same answer as REST', async () => {
    const r = tempRepo({ 'repo.ts': TYPED_REPO });
    const typed = await serveRepo(r.dir);
    const tserver = createGrpcServer(typed.ctx);
    const t = tempDir();
    try {
      await typed.app.listen({ host: '127.0.0.1', port: 0 });
      const turl = `http://127.0.0.1:${(typed.app.server.address() as AddressInfo).port}`;
      const taddr = `127.0.0.1:${await startGrpcServer(tserver, '127.0.0.1', 0)}`;
      const files = generateClient(typed.repo, { grpc: true });
      expect(files[0]!.text).toContain(
        "  pricing: { joinKeys: { store_id: 'int64' }, requestFields: { price: 'float64', qty: 'int64', vip: 'bool' } },\n",
      );
      writeClient(t.dir, files);
      const tgen = (await import(pathToFileURL(join(t.dir, 'client.ts')).href)) as Generated;
      const rows = [
        { store_id: 7, price: 2.5, qty: 3, vip: true },
        { store_id: 8, price: 2, qty: 4, vip: false },
        { store_id: 9, price: null, qty: null, vip: null },
      ];
      const rest = tgen.createClient({ url: turl });
      const overGrpc = tgen.createClient({ url: turl, transport: 'grpc', grpcAddress: taddr });
      try {
        const a = await rest.getOnlineFeatures('pricing', rows);
        const b = await overGrpc.getOnlineFeatures('pricing', rows);
        expect(b).toEqual(a);
        expect(b.columns['store_id']!.values).toEqual([7, 8, 9]);
        expect(b.columns['total']!.values).toEqual([7.5, 8, null]);
        expect(b.columns['vip_seen']!.values).toEqual([true, false, null]);
      } finally {
        rest.close();
        overGrpc.close();
      }
    } finally {
      await new Promise<void>((res) => tserver.tryShutdown(() => res()));
      await typed.close();
      t.cleanup();
      r.cleanup();
    }
  });

  it('maps a missing API key to LARDER_UNAUTHENTICATED (gRPC UNAUTHENTICATED), not retried', async () => {
    const client = gen.createClient({ url, transport: 'grpc', grpcAddress, retries: 3 });
    try {
      const e = await client
        .getOnlineFeatures('recommendation_v1', [{ user_id: 'u1', product_id: 'p1' }])
        .catch((x: unknown) => x);
      expect(e).toMatchObject({
        name: 'LarderClientError',
        code: 'LARDER_UNAUTHENTICATED',
        status: null,
        grpcCode: grpc.status.UNAUTHENTICATED,
        retriable: false,
        attempts: 1,
      });
    } finally {
      client.close();
    }
  });

  it('ends an attempt at its deadline with CLIENT_TIMEOUT', async () => {
    const address = `127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const client = gen.createClient({
      url,
      transport: 'grpc',
      grpcAddress: address,
      timeoutMs: 300,
      retries: 2,
    });
    const start = Date.now();
    try {
      const e = await client
        .getOnlineFeatures('recommendation_v1', [{ user_id: 'u1', product_id: 'p1' }])
        .catch((x: unknown) => x);
      expect(e).toMatchObject({
        code: 'CLIENT_TIMEOUT',
        message: 'GetOnlineFeatures: no answer within 300 ms',
        grpcCode: grpc.status.DEADLINE_EXCEEDED,
        retriable: false,
        attempts: 1,
      });
      expect(Date.now() - start).toBeGreaterThanOrEqual(250);
      expect(Date.now() - start).toBeLessThan(5000);
    } finally {
      client.close();
    }
  });

  it('rejects with the signal’s reason when the call is aborted', async () => {
    const address = `127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const client = gen.createClient({ url, transport: 'grpc', grpcAddress: address });
    try {
      const ac = new AbortController();
      const p = client.getOnlineFeatures(
        'recommendation_v1',
        [{ user_id: 'u1', product_id: 'p1' }],
        { signal: ac.signal },
      );
      setTimeout(() => ac.abort(new Error('stop')), 50);
      await expect(p).rejects.toThrow(new Error('stop'));
    } finally {
      client.close();
    }
  });

  it('names a status without Larder’s metadata GRPC_<STATUS>', async () => {
    const bare = new grpc.Server(); // serves no service: every call is UNIMPLEMENTED
    const port = await startGrpcServer(bare, '127.0.0.1', 0);
    const client = gen.createClient({ url, transport: 'grpc', grpcAddress: `127.0.0.1:${port}` });
    try {
      const e = await client
        .getOnlineFeatures('recommendation_v1', [{ user_id: 'u1', product_id: 'p1' }])
        .catch((x: unknown) => x);
      expect(e).toMatchObject({
        code: 'GRPC_UNIMPLEMENTED',
        grpcCode: grpc.status.UNIMPLEMENTED,
        retriable: false,
        attempts: 1,
      });
    } finally {
      client.close();
      bare.forceShutdown();
    }
  });

  it('retries UNAVAILABLE (no server) and then throws CLIENT_NETWORK', async () => {
    const client = gen.createClient({
      url,
      transport: 'grpc',
      grpcAddress: `127.0.0.1:${await freePort()}`,
      retries: 2,
      backoffMs: 10,
    });
    try {
      const e = await client
        .getOnlineFeatures('recommendation_v1', [{ user_id: 'u1', product_id: 'p1' }])
        .catch((x: unknown) => x);
      expect(e).toMatchObject({
        code: 'CLIENT_NETWORK',
        grpcCode: grpc.status.UNAVAILABLE,
        retriable: true,
        attempts: 3,
      });
    } finally {
      client.close();
    }
  });

  it('retries RESOURCE_EXHAUSTED from the rate limit after its retry-after', async () => {
    const limited = s.ctx.keys.create({ scopes: ['read'], rate: 1 }).key;
    const rows = [{ user_id: 'u1', product_id: 'p1' }];
    const opts = { url, apiKey: limited, transport: 'grpc' as const, grpcAddress };
    const once = gen.createClient({ ...opts, retries: 0 });
    const twice = gen.createClient({ ...opts, retries: 1 });
    try {
      await once.getOnlineFeatures('recommendation_v1', rows);
      const e = await once.getOnlineFeatures('recommendation_v1', rows).catch((x: unknown) => x);
      expect(e).toMatchObject({
        code: 'LARDER_RATE_LIMITED',
        grpcCode: grpc.status.RESOURCE_EXHAUSTED,
        retriable: true,
        attempts: 1,
      });
      const start = Date.now();
      const r = await twice.getOnlineFeatures('recommendation_v1', rows);
      expect(r.columns['page_views_1h']!.values[0]).toBe(2);
      expect(Date.now() - start).toBeGreaterThanOrEqual(900);
    } finally {
      once.close();
      twice.close();
    }
  });

  it('refuses a service the client was not generated for, and gRPC on a REST-only client', async () => {
    const client = gen.createClient({ url, apiKey: key, transport: 'grpc', grpcAddress });
    try {
      const e = await client.getOnlineFeatures('nope', []).catch((x: unknown) => x);
      expect(e).toMatchObject({
        code: 'CLIENT_UNKNOWN_SERVICE',
        message: 'feature service "nope" is not in this client',
        attempts: 0,
      });
    } finally {
      client.close();
    }
    expect(() => restOnly.createClient({ url, transport: 'grpc' })).toThrow(
      new TypeError(
        "transport 'grpc' needs a client generated with `larder codegen --grpc` (grpc-transport.ts)",
      ),
    );
  });
});

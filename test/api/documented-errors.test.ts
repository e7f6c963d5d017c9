/**
 * docs/api.md's error table, checked against the real server: every documented (status, code)
 * pair is triggered here and answers exactly that, and every pair triggered here is
 * documented. A case per documented cause where the doc lists several.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BAD_REQUEST_REASONS, LarderError, type BadRequestReason } from '../../core/errors.ts';
import { RateLimiter } from '../../api/auth/rate-limiter.ts';
import { createGrpcServer, startGrpcServer } from '../../api/grpc/grpc-server.ts';
import { loadServingService } from '../../api/grpc/load-serving-proto.ts';
import { loadModelSet } from '../../models/model-set.ts';
import { BASE_REPO, tempRepo } from '../support/temp-repo.ts';
import { columns, event } from './ecommerce-data.ts';
import { errorOf } from './error-of.ts';
import { serveRepo, T0, type Served } from './serve-fixture.ts';

const FEATURES = resolve(import.meta.dirname, '../../examples/ecommerce/features');
const DOC = readFileSync(resolve(import.meta.dirname, '../../docs/api.md'), 'utf8');

/** `| 400 | \`LARDER_BAD_REQUEST\` | ...` rows of the error table. */
const documented = [...DOC.matchAll(/^\| (\d{3}) \| `(LARDER_[A-Z_]+)` \|/gm)].map(
  (m) => `${m[1]} ${m[2]}`,
);

/** An on-demand view whose transform throws. */
const FAILING = tempRepo({
  'repo.ts': `${BASE_REPO}
import { onDemandFeatureView, requestField } from 'larder';
export const boom = onDemandFeatureView({
  name: 'boom', entities: [user], inputs: { x: requestField('x', 'float64') },
  features: { y: 'float64' },
  transform: () => { throw new RangeError('no'); },
});
export const wrong = onDemandFeatureView({
  name: 'wrong', entities: [user], inputs: { x: requestField('x', 'float64') },
  features: { y: 'float64' },
  transform: ({ x }) => ({ y: x.map(() => 'not a number') }),
});
`,
});

let failing: Served; // FAILING's repository
let open: Served; // auth off (no API key)
let authed: Served; // auth on
let keys: { reader: string; pusher: string; limited: string };

beforeAll(async () => {
  open = await serveRepo(FEATURES);
  // The example's models (ranker_v1), for the /v1/models routes' errors.
  const snap = open.ctx.state.current;
  open.ctx.state.swap({ ...snap, models: await loadModelSet(open.repo) });
  failing = await serveRepo(FAILING.dir);
  authed = await serveRepo(FEATURES);
  keys = {
    reader: authed.ctx.keys.create({ scopes: ['read'] }).key,
    pusher: authed.ctx.keys.create({ scopes: ['push'] }).key,
    limited: authed.ctx.keys.create({ scopes: ['read'], rate: 1 }).key,
  };
});
afterAll(async () => {
  await open?.close();
  await failing?.close();
  await authed?.close();
  FAILING.cleanup();
});

type Headers = Record<string, string>;
const post = (s: Served, url: string, payload: unknown, headers: Headers = {}) =>
  s.app.inject({
    method: 'POST',
    url,
    ...(typeof payload === 'string'
      ? { payload, headers: { 'content-type': 'application/json', ...headers } }
      : { payload: payload as object, headers }),
  });
const read = (entities: Record<string, unknown[]>, features = ['user_activity:clicks_1h']) => ({
  features,
  entities,
});
const pushBody = (rows: Record<string, unknown>[]) => ({
  push_source_name: 'user_events',
  df: columns(rows),
});
const ev = (id: string, user = 'u1') =>
  event(id, user, 'page_view', 60_000, { productId: 'p1', category: 'c', price: '1.00' });
const n = (k: number, f: (i: number) => string) => Array.from({ length: k }, (_, i) => f(i));

/** Replaces a store method for one request. */
async function withStore<K extends 'readMany' | 'ping' | 'mergeTiles'>(
  s: Served,
  method: K,
  impl: Served['store'][K],
  run: () => Promise<LightMyRequestResponse>,
): Promise<LightMyRequestResponse> {
  const store = s.ctx.state.current.store;
  const saved = store[method];
  store[method] = impl;
  try {
    return await run();
  } finally {
    store[method] = saved;
  }
}

interface Case {
  pair: string;
  why: string;
  run: () => Promise<LightMyRequestResponse>;
  field?: string;
  /** The body's `reason`: required for LARDER_BAD_REQUEST, absent for every other code. */
  reason?: BadRequestReason;
}

const cases: Case[] = [
  // 400
  ...(
    [
      ['invalid JSON', '{"features": [', '(body)', 'malformed_body'],
      ['an empty body', '', '(body)', 'malformed_body'],
      // Half a surrogate pair has no UTF-8 form: a batch file's line with one is invalid JSON too.
      [
        'a string with half a surrogate pair',
        '{"features": ["user_activity:clicks_1h"], "entities": {"user_id": ["\\ud800"]}}',
        '(body)',
        'malformed_body',
      ],
      [
        'a __proto__ key',
        '{"__proto__": {}, "features": ["user_activity:clicks_1h"]}',
        '__proto__',
        'unsafe_key',
      ],
      ['a wrong join-key type', read({ user_id: [42] }), 'entities.user_id[0]', 'wrong_type'],
      [
        'ragged columns',
        read({ user_id: ['u1'], product_id: ['p1', 'p2'] }, [
          'user_activity:clicks_1h',
          'product_catalog:price',
        ]),
        'entities.product_id',
        'ragged_columns',
      ],
      [
        'too many entity rows',
        read({ user_id: n(1001, (i) => `u${i}`) }),
        'entities',
        'too_many_rows',
      ],
      [
        'a missing join key',
        read({ user_id: ['u1'] }, ['user_activity:clicks_1h', 'product_catalog:price']),
        'entities.product_id',
        'missing_field',
      ],
      [
        'both "features" and "feature_service"',
        { ...read({ user_id: ['u1'] }), feature_service: 'recommendation_v1' },
        'features',
        'conflicting_fields',
      ],
      [
        'a feature requested twice',
        read({ user_id: ['u1'] }, ['user_activity:clicks_1h', 'user_activity:clicks_1h']),
        undefined,
        'duplicate',
      ],
      [
        'a reference without a view',
        read({ user_id: ['u1'] }, ['clicks_1h']),
        undefined,
        'invalid_feature_reference',
      ],
    ] as const
  ).map(([why, body, field, reason]) => ({
    pair: '400 LARDER_BAD_REQUEST',
    why: `/get-online-features: ${why}`,
    field,
    reason,
    run: () => post(open, '/get-online-features', body),
  })),
  ...(
    [
      [
        'a row breaking the schema',
        [{ ...ev('b1'), eventType: 'teleport' }],
        'df.eventType[0]',
        'invalid_record',
      ],
      [
        'a row stamped a year ahead',
        [{ ...ev('b2'), timestamp: T0 + 366 * 86_400_000 }],
        'df.timestamp[0]',
        'invalid_record',
      ],
      [
        'a row outside the date range',
        [{ ...ev('b3'), timestamp: 9e15 }],
        'df.timestamp[0]',
        'invalid_record',
      ],
      [
        'an int64 beyond ±(2^53 − 1)',
        [{ ...ev('b5'), timestamp: 1e20 }],
        'df.timestamp[0]',
        'invalid_record',
      ],
      [
        'a join key over 1024 bytes',
        [ev('b4', 'u'.repeat(1025))],
        'df.userId[0]',
        'invalid_record',
      ],
      ['more than 1000 rows', n(1001, (i) => `r${i}`).map((id) => ev(id)), 'df', 'too_many_rows'],
    ] as const
  ).map(([why, rows, field, reason]) => ({
    pair: '400 LARDER_BAD_REQUEST',
    why: `/push: ${why}`,
    field,
    reason,
    run: () => post(open, '/push', pushBody(rows as Record<string, unknown>[])),
  })),
  {
    pair: '400 LARDER_BAD_REQUEST',
    why: '/push: ragged columns',
    field: 'df.userId',
    reason: 'ragged_columns',
    run: () =>
      post(open, '/push', {
        push_source_name: 'user_events',
        df: { ...columns([ev('rg')]), userId: ['u1', 'u2'] },
      }),
  },
  {
    pair: '400 LARDER_BAD_REQUEST',
    why: '/push: no push_source_name',
    field: 'push_source_name',
    reason: 'missing_field',
    run: () => post(open, '/push', { df: columns([ev('m0')]) }),
  },
  {
    pair: '400 LARDER_BAD_REQUEST',
    why: '/push: a malformed Idempotency-Key',
    field: 'idempotency-key',
    reason: 'invalid_value',
    run: () => post(open, '/push', pushBody([ev('k0')]), { 'idempotency-key': 'has space' }),
  },
  {
    pair: '400 LARDER_BAD_REQUEST',
    why: '/get-online-features: a missing request field',
    field: 'entities.x',
    reason: 'missing_field',
    run: () => post(failing, '/get-online-features', read({ user_id: ['u1'] }, ['boom:y'])),
  },
  {
    pair: '400 LARDER_BAD_REQUEST',
    why: '/v1/models/ranker_v1/rank: an unknown body field',
    field: 'bogus',
    reason: 'unknown_field',
    run: () =>
      post(open, '/v1/models/ranker_v1/rank', {
        user_id: 'u1',
        candidates: ['p1'],
        top_k: 1,
        bogus: 1,
      }),
  },
  {
    pair: '400 LARDER_BAD_REQUEST',
    why: '/v1/models/ranker_v1/rank: duplicate candidates',
    field: 'candidates',
    reason: 'duplicate',
    run: () =>
      post(open, '/v1/models/ranker_v1/rank', {
        user_id: 'u1',
        candidates: ['p1', 'p1'],
        top_k: 1,
      }),
  },
  {
    pair: '400 LARDER_BAD_REQUEST',
    why: '/ui/api/pipeline: a bad query',
    field: 'limit',
    reason: 'invalid_value',
    run: () => open.app.inject({ url: '/ui/api/pipeline?limit=0' }),
  },
  // 401, 403
  {
    pair: '401 LARDER_UNAUTHENTICATED',
    why: 'no API key',
    field: 'authorization',
    run: () => post(authed, '/get-online-features', read({ user_id: ['u1'] })),
  },
  {
    pair: '401 LARDER_UNAUTHENTICATED',
    why: 'an invalid API key',
    field: 'authorization',
    run: () =>
      post(authed, '/get-online-features', read({ user_id: ['u1'] }), {
        authorization: 'Bearer lk_000000000000_wrongwrongwrongwrongwrong',
      }),
  },
  {
    pair: '401 LARDER_UNAUTHENTICATED',
    why: 'a revoked API key',
    field: 'authorization',
    run: () => {
      const made = authed.ctx.keys.create({ scopes: ['read'] });
      authed.ctx.keys.revoke(made.record.id);
      return post(authed, '/get-online-features', read({ user_id: ['u1'] }), {
        'x-api-key': made.key,
      });
    },
  },
  {
    pair: '403 LARDER_FORBIDDEN',
    why: 'a key without the scope',
    field: 'authorization',
    run: () => post(authed, '/push', pushBody([ev('f1')]), { 'x-api-key': keys.reader }),
  },
  // 404
  ...(
    [
      ['an unknown route', () => open.app.inject({ url: '/nope' })],
      [
        'an unknown feature view',
        () => post(open, '/get-online-features', read({ user_id: ['u1'] }, ['nope:x'])),
      ],
      [
        'an unknown feature',
        () => post(open, '/get-online-features', read({ user_id: ['u1'] }, ['user_activity:nope'])),
      ],
      [
        'an unknown feature service',
        () =>
          post(open, '/get-online-features', {
            feature_service: 'nope',
            entities: { user_id: ['u1'] },
          }),
      ],
      ['an unknown push source', () => post(open, '/push', { push_source_name: 'nope', df: {} })],
      [
        'an unknown model',
        () => post(open, '/v1/models/nope/predict', { entities: { user_id: ['u1'] } }),
      ],
      [
        'an unknown experiment',
        () =>
          post(open, '/v1/experiments/nope/rank', { user_id: 'u1', candidates: ['p1'], top_k: 1 }),
      ],
    ] as const
  ).map(([why, run]) => ({ pair: '404 LARDER_NOT_FOUND', why, run })),
  // 413, 415, 422
  ...['/get-online-features', '/push', '/v1/models/ranker_v1/rank'].map((url) => ({
    pair: '413 LARDER_PAYLOAD_TOO_LARGE',
    why: `${url}: a body over 8 MiB`,
    field: '(body)',
    run: () => post(open, url, JSON.stringify({ pad: 'x'.repeat(8 * 1024 * 1024) })),
  })),
  {
    pair: '415 LARDER_UNSUPPORTED_MEDIA_TYPE',
    why: 'an XML body',
    field: 'content-type',
    run: () =>
      open.app.inject({
        method: 'POST',
        url: '/get-online-features',
        payload: '<features/>',
        headers: { 'content-type': 'application/xml' },
      }),
  },
  {
    pair: '422 LARDER_IDEMPOTENCY_KEY_REUSED',
    why: 'a used Idempotency-Key with another push',
    field: 'idempotency-key',
    run: async () => {
      const h = { 'idempotency-key': 'doc-422' };
      expect((await post(open, '/push', pushBody([ev('i1')]), h)).statusCode).toBe(200);
      return post(open, '/push', pushBody([ev('i2')]), h);
    },
  },
  // 429
  {
    pair: '429 LARDER_RATE_LIMITED',
    why: 'a key over its rate',
    run: async () => {
      authed.ctx.limiter = new RateLimiter(() => 0);
      const h = { 'x-api-key': keys.limited };
      expect(
        (await post(authed, '/get-online-features', read({ user_id: ['u1'] }), h)).statusCode,
      ).toBe(200);
      return post(authed, '/get-online-features', read({ user_id: ['u1'] }), h);
    },
  },
  // 500, 503
  {
    pair: '500 LARDER_INTERNAL',
    why: 'a bug (a store answering nonsense)',
    run: () =>
      withStore(
        open,
        'readMany',
        async () => [undefined as never],
        () => post(open, '/get-online-features', read({ user_id: ['u1'] })),
      ),
  },
  {
    pair: '500 LARDER_STORE_REJECTED',
    why: 'the store refusing a command (what the Redis store raises on a WRONGTYPE reply)',
    run: () =>
      withStore(
        open,
        'readMany',
        async () => {
          throw new LarderError(
            'LARDER_STORE_REJECTED',
            'Redis online store at redis://127.0.0.1:6379/0 refused a command: WRONGTYPE Operation against a key holding the wrong kind of value',
          );
        },
        () => post(open, '/get-online-features', read({ user_id: ['u1'] })),
      ),
  },
  {
    pair: '500 LARDER_ON_DEMAND_FAILED',
    why: 'an on-demand transform that throws',
    run: () => post(failing, '/get-online-features', read({ user_id: ['u1'], x: [1] }, ['boom:y'])),
  },
  {
    pair: '503 LARDER_STORE_UNAVAILABLE',
    why: 'the store down on a read',
    run: () =>
      withStore(
        open,
        'readMany',
        async () => {
          throw new Error('connect ECONNREFUSED');
        },
        () => post(open, '/get-online-features', read({ user_id: ['u1'] })),
      ),
  },
  {
    pair: '500 LARDER_ON_DEMAND_FAILED',
    why: 'an on-demand transform that returns a value of the wrong type',
    run: () =>
      post(failing, '/get-online-features', read({ user_id: ['u1'], x: [1] }, ['wrong:y'])),
  },
  {
    pair: '503 LARDER_STORE_UNAVAILABLE',
    why: 'the store down on a push',
    run: () =>
      withStore(
        open,
        'mergeTiles',
        async () => {
          throw new Error('connect ECONNREFUSED');
        },
        () => post(open, '/push', pushBody([ev('d1')])),
      ),
  },
  {
    pair: '503 LARDER_STORE_UNAVAILABLE',
    why: 'the store down on /ready',
    run: () =>
      withStore(
        open,
        'ping',
        async () => {
          throw new Error('connect ECONNREFUSED');
        },
        () => open.app.inject({ url: '/ready' }),
      ),
  },
];

describe('docs/api.md error table', () => {
  it('documents exactly the (status, code) pairs triggered below', () => {
    expect(documented.length).toBeGreaterThan(0);
    expect([...new Set(documented)].sort()).toEqual([...new Set(cases.map((c) => c.pair))].sort());
  });

  it.each(cases.map((c) => [c.pair, c.why, c] as const))('%s: %s', async (pair, _, c) => {
    const [status, code] = pair.split(' ');
    const r = await c.run();
    expect(r.statusCode, r.body.slice(0, 300)).toBe(Number(status));
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    const error = errorOf(r);
    expect(error.code).toBe(code);
    expect(error.message.length).toBeGreaterThan(0);
    if (c.field !== undefined) expect(error.field).toBe(c.field);
    expect(error.reason).toBe(c.reason);
    if (code === 'LARDER_BAD_REQUEST') expect(BAD_REQUEST_REASONS).toContain(c.reason);
    // No stack trace (a definition's own `at file.ts:line` is not one).
    expect(r.body).not.toMatch(/\\n\s+at |node:internal|node_modules/);
    if (status === '429' || status === '503')
      expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });
});

/** The gRPC statuses docs/api.md lists, on the same servers over a real gRPC client. */
describe('docs/api.md gRPC statuses', () => {
  const servers: grpc.Server[] = [];
  const clients: (grpc.Client & Record<string, (...a: unknown[]) => void>)[] = [];
  beforeAll(async () => {
    const Service = loadServingService();
    for (const s of [open, authed]) {
      const server = createGrpcServer(s.ctx);
      const port = await startGrpcServer(server, '127.0.0.1', 0);
      servers.push(server);
      clients.push(new Service(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as never);
    }
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await Promise.all(servers.map((g) => new Promise<void>((r) => g.tryShutdown(() => r()))));
  });

  const documentedGrpc = (() => {
    const para = DOC.slice(DOC.indexOf('Over gRPC the same errors'));
    return [...para.slice(0, para.indexOf('\n\n')).matchAll(/(\d+)\s+`([A-Z_]+)`/g)].map((m) =>
      Number(m[1]),
    );
  })();

  const request = (user: unknown = 'u1', features = ['user_activity:clicks_1h']) => ({
    features: { val: features },
    entities: { user_id: { val: [{ string_val: user }] } },
  });
  const call = (i: 0 | 1, req: unknown, md: Record<string, string> = {}) =>
    new Promise<grpc.ServiceError | null>((res) => {
      const meta = new grpc.Metadata();
      for (const [k, v] of Object.entries(md)) meta.set(k, v);
      clients[i]!.GetOnlineFeatures!(req, meta, (e: grpc.ServiceError | null) => res(e));
    });
  const raw = (bytes: Buffer) =>
    new Promise<grpc.ServiceError | null>((res) =>
      clients[0]!.makeUnaryRequest(
        '/feast.serving.ServingService/GetOnlineFeatures',
        (b: Buffer) => b,
        (b: Buffer) => b,
        bytes,
        (e) => res(e),
      ),
    );

  const grpcCases: [number, string, () => Promise<grpc.ServiceError | null>][] = [
    [3, 'a malformed message', () => raw(Buffer.from([0x0f]))],
    [3, 'a bad request (no features)', () => call(0, { entities: {} })],
    [5, 'an unknown feature view', () => call(0, request('u1', ['nope:x']))],
    [16, 'no API key', () => call(1, request())],
    [
      7,
      'a key without the scope',
      () => call(1, request(), { authorization: `Bearer ${keys.pusher}` }),
    ],
    [
      8,
      'a key over its rate',
      async () => {
        authed.ctx.limiter = new RateLimiter(() => 0);
        expect(await call(1, request(), { 'x-api-key': keys.limited })).toBeNull();
        return call(1, request(), { 'x-api-key': keys.limited });
      },
    ],
    [
      14,
      'the store down',
      async () => {
        const store = open.ctx.state.current.store;
        const saved = store.readMany;
        store.readMany = async () => {
          throw new Error('connect ECONNREFUSED');
        };
        try {
          return await call(0, request());
        } finally {
          store.readMany = saved;
        }
      },
    ],
    [
      13,
      'a bug',
      async () => {
        const store = open.ctx.state.current.store;
        const saved = store.readMany;
        store.readMany = async () => [undefined as never];
        try {
          return await call(0, request());
        } finally {
          store.readMany = saved;
        }
      },
    ],
  ];

  it('documents exactly the gRPC statuses triggered below', () => {
    expect([...new Set(documentedGrpc)].sort()).toEqual(
      [...new Set(grpcCases.map((c) => c[0]))].sort(),
    );
  });

  it.each(grpcCases)('%i: %s', async (code, _, run) => {
    // Every error, a malformed message too, carries its Larder code in the metadata.
    const e = await run();
    expect(e?.code).toBe(code);
    expect(e?.details).not.toMatch(/\n\s+at |node:internal|node_modules/);
    expect(e?.metadata.get('larder-error-code')).toHaveLength(1);
  });
});

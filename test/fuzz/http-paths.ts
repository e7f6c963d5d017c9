/**
 * The HTTP and gRPC paths of the differential fuzzer (in process): one server
 * (`api/build-server.ts`, listening on a real socket, and the gRPC service on the same context)
 * whose serving snapshot is swapped to each case's repository and a fresh store (SQLite, or the
 * given store under a namespace of its own, torn down after the case). The
 * case's records are pushed through `POST /push` as a client sends them (JSON text written in
 * turn as JavaScript, Python's `json.dumps` and in exponent form: {@link clientJson}; a refused
 * push is a 400 naming its row, dropped and sent again, as in `checkPushed`), then every feature (list features and the on-demand view with its request
 * field included) is read at the case's online read times three ways, one request per read time:
 *
 * - `POST /get-online-features` with a Content-Length: answered by the fast path
 *   (`api/routes/online-features-fast-path.ts`), checked to have bypassed fastify;
 * - the same body chunked: handed to fastify's route, checked to have reached it, and its answer
 *   must be the fast path's byte for byte;
 * - gRPC `GetOnlineFeatures` (request values as Feast's `Value`s, `req` in `request_context`).
 *
 * Decoded values are compared with the reference as `checkPushed` compares the store's; statuses
 * and event timestamps must be the same over gRPC as over HTTP and agree with the values
 * ({@link statusProblem}).
 *
 * @example
 * const env = await openHttpEnv();
 * const mismatches = await env.check(atAnchor(c, ANCHOR));
 * await env.close();
 */
import * as grpc from '@grpc/grpc-js';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { KeyStore } from '../../api/auth/key-store.ts';
import { RateLimiter } from '../../api/auth/rate-limiter.ts';
import { buildServer } from '../../api/build-server.ts';
import { fromProtoValue, type ProtoValue } from '../../api/grpc/feast-proto-values.ts';
import { createGrpcServer, startGrpcServer } from '../../api/grpc/grpc-server.ts';
import { loadServingService } from '../../api/grpc/load-serving-proto.ts';
import { DefaultPushHandler } from '../../api/push/default-push-handler.ts';
import type { ServerContext } from '../../api/server-context.ts';
import type { OnlineStoreConfig } from '../../config/config.ts';
import { ServerMetrics } from '../../api/server-metrics.ts';
import { ServingState } from '../../api/serving-state.ts';
import { badRequest, type BadRequestReason } from '../../core/errors.ts';
import type { Repository } from '../../definitions/repository.ts';
import type { FeatureSpec } from '../../definitions/spec.ts';
import { createOnlineStore } from '../../online/create-online-store.ts';
import type { OnlineStore } from '../../online/online-store.ts';
import type { EntityRow } from '../../reference/index.ts';
import { tempDir } from '../support/temp-repo.ts';
import { buildRepository, type ViewPlan } from './definitions.ts';
import {
  guarded,
  mismatch,
  onDemandFeatures,
  onlineAcceptedCase,
  onlineReadRows,
  pushRecords,
  referenceValues,
  sameFeatureValue,
  type Mismatch,
} from './differential.ts';
import type { FuzzCase } from './fuzz-case.ts';

type Rec = Record<string, unknown>;

export interface HttpEnv {
  /** The HTTP and gRPC paths' mismatches for a case (already at its anchor). */
  check(c: FuzzCase): Promise<Mismatch[]>;
  /**
   * A POST of JSON text to the server, serving the last case checked (its repository and
   * store), reads evaluated at `t`.
   */
  post(path: string, body: string, t: number): Promise<Answer>;
  /** Requests fastify answered, and requests the fast path answered, so far. */
  counts(): { fastify: number; fastPath: number; grpc: number };
  close(): Promise<void>;
}

export interface Answer {
  status: number;
  body: string;
}

/** One decoded read: per column its values, statuses and event times (epoch ms, 0 = none). */
interface Decoded {
  names: string[];
  values: unknown[][];
  statuses: string[][];
  eventTs: number[][];
}

interface GrpcResponse {
  metadata: { feature_names: { val?: string[] } };
  results: {
    values?: ProtoValue[];
    statuses?: string[];
    event_timestamps?: { seconds?: number; nanos?: number }[];
  }[];
}

const PUSH_CHUNK = 7;

/**
 * `store`: the online store (default SQLite in a temp folder). Redis expires keys at data time
 * + TTL on its own clock: give it cases whose "now" lies after the wall clock
 * (`nearWallClock`).
 */
export async function openHttpEnv(opts: { store?: OnlineStoreConfig } = {}): Promise<HttpEnv> {
  const tmp = tempDir();
  const sqlitePath = join(tmp.dir, 'online.sqlite');
  // The push handler judges "later than now" by the case's clock; reads are evaluated at the
  // read time of the request being sent.
  let now = 0;
  let readAt = 0;
  const openStore = async (repo: Repository): Promise<OnlineStore> => {
    const store = createOnlineStore(opts.store ?? { type: 'sqlite', path: sqlitePath }, {
      namespace: `fuzz-${randomUUID()}`,
      views: [...repo.featureViews.values()].map((v) => v.spec),
      clock: () => now,
    });
    await store.init();
    return store;
  };
  const empty = buildRepository([]);
  const state = new ServingState({
    repo: empty,
    store: await openStore(empty),
    version: 0,
    loadedAt: 0,
  });
  const ctx: ServerContext = {
    state,
    maxEntityRows: 1000,
    keys: new KeyStore(tmp.dir),
    limiter: new RateLimiter(),
    pushHandler: new DefaultPushHandler(join(tmp.dir, 'data'), () => now),
    metrics: new ServerMetrics(),
    home: tmp.dir,
    clock: () => readAt,
  };
  const app = await buildServer(ctx);
  let viaFastify = 0;
  let viaFastPath = 0;
  let viaGrpc = 0;
  let pushes = 0;
  let reads = 0;
  app.addHook('onSend', (_request, _reply, payload, done) => {
    viaFastify++;
    done(null, payload);
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as AddressInfo).port;
  const agent = new http.Agent({ keepAlive: true });
  const grpcServer = createGrpcServer(ctx);
  const grpcPort = await startGrpcServer(grpcServer, '127.0.0.1', 0);
  const Service = loadServingService();
  const client = new Service(
    `127.0.0.1:${grpcPort}`,
    grpc.credentials.createInsecure(),
  ) as unknown as grpc.Client & {
    GetOnlineFeatures: (
      req: unknown,
      cb: (e: grpc.ServiceError | null, r: GrpcResponse) => void,
    ) => void;
  };

  /** A POST over the socket: with a Content-Length, or chunked (the fast path passes those on). */
  const post = (path: string, body: string, chunked: boolean): Promise<Answer> =>
    new Promise((done, fail) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path,
          agent,
          headers: {
            'content-type': 'application/json',
            ...(chunked ? {} : { 'content-length': String(Buffer.byteLength(body)) }),
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (text += d));
          res.on('end', () => done({ status: res.statusCode!, body: text }));
        },
      );
      req.on('error', fail);
      if (chunked) req.write(body);
      req.end(chunked ? undefined : body);
    });

  /** `POST /push`; rejects with the answer's error (Feast's error detail: a JSON string). */
  const push = async (source: string, columns: Record<string, unknown[]>): Promise<void> => {
    const n = Object.values(columns)[0]?.length ?? 0;
    const style = JSON_STYLES[pushes++ % JSON_STYLES.length]!;
    const a = await post(
      '/push',
      clientJson({ push_source_name: source, df: columns, to: 'online' }, style),
      false,
    );
    if (a.status === 200) {
      const rows = (JSON.parse(a.body) as { rows?: unknown }).rows;
      if (rows !== n) throw new Error(`200 with rows ${String(rows)} for ${n} rows: ${a.body}`);
      return;
    }
    const detail = JSON.parse(JSON.parse(a.body) as string) as Rec;
    if (a.status !== 400 || detail.code !== 'LARDER_BAD_REQUEST')
      throw new Error(`${a.status}: ${a.body}`);
    throw badRequest(
      String(detail.field),
      String(detail.message),
      undefined,
      detail.reason as BadRequestReason,
    );
  };

  const grpcRead = (req: unknown): Promise<GrpcResponse> =>
    new Promise((done, fail) => client.GetOnlineFeatures(req, (e, r) => (e ? fail(e) : done(r))));

  return {
    async check(c) {
      now = c.now;
      const repo = buildRepository(c.plans, c.onDemand);
      const store = await openStore(repo);
      const prev = state.swap({ repo, store, version: 0, loadedAt: c.now });
      await prev.store.teardown();
      await prev.store.close();
      const out: Mismatch[] = [];
      out.push(
        ...(await guarded('http push', () => pushRecords('http push', c, PUSH_CHUNK, push))),
      );
      const accepted = onlineAcceptedCase(c);
      const rows = onlineReadRows(accepted);
      const want = referenceValues(repo, accepted, rows);
      const carried = carriedKeys(accepted);
      const features = [
        ...[...repo.featureViews.values()].flatMap((v) =>
          v.spec.features.map((f) => `${v.spec.name}:${f.name}`),
        ),
        ...onDemandFeatures(repo).map((f) => `${f.view}:${f.feature}`),
      ];
      const joinKeys = new Set(
        [...repo.featureViews.values(), ...repo.onDemandViews.values()].flatMap((v) =>
          v.entityDefs.map((e) => e.spec.joinKey),
        ),
      );
      const withReq = c.onDemand?.request ? ['req'] : [];
      const doubles = new Set(
        [...repo.featureViews.values(), ...repo.onDemandViews.values()].flatMap((v) =>
          v.spec.features
            .filter((f) => f.type === 'float64')
            .map((f) => `${v.spec.name}__${f.name}`),
        ),
      );
      // One request per read time (the server reads at its clock), rows of that time together.
      const byTime = new Map<number, number[]>();
      rows.forEach((r, i) =>
        byTime.set(r.event_timestamp, [...(byTime.get(r.event_timestamp) ?? []), i]),
      );
      for (const [t, idx] of byTime) {
        readAt = t;
        const group = idx.map((i) => rows[i]!);
        const columns = Object.fromEntries(
          [...joinKeys, ...withReq].map((k) => [k, group.map((r) => r[k] ?? null)]),
        );
        const body = clientJson(
          { features, entities: columns, full_feature_names: true },
          JSON_STYLES[reads++ % JSON_STYLES.length]!,
        );
        out.push(
          ...(await guarded('http', async () => {
            const m: Mismatch[] = [];
            const before = viaFastify;
            const fast = await post('/get-online-features', body, false);
            if (viaFastify !== before)
              m.push(problem('http (fast path)', t, 'answered by fastify', 'the fast path'));
            viaFastPath++;
            const slow = await post('/get-online-features', body, true);
            if (viaFastify !== before + 1)
              m.push(problem('http (fastify)', t, 'not answered by fastify', 'fastify'));
            if (fast.status !== 200) {
              m.push(problem('http (fast path)', t, `${fast.status} ${fast.body}`, 200));
              return m;
            }
            if (slow.status !== fast.status || slow.body !== fast.body)
              m.push(problem('http (fastify)', t, `${slow.status} ${slow.body}`, fast.body));
            const rest = decodeJson(fast.body, doubles);
            m.push(
              ...compare(
                'http',
                repo,
                accepted,
                group,
                idx.map((i) => want[i]!),
                rest,
                carried,
              ),
            );
            viaGrpc++;
            const g = decodeGrpc(
              await grpcRead({
                features: { val: features },
                entities: Object.fromEntries(
                  [...joinKeys].map((k) => [k, { val: columns[k]!.map(protoValue) }]),
                ),
                request_context: Object.fromEntries(
                  withReq.map((k) => [k, { val: columns[k]!.map(protoValue) }]),
                ),
                full_feature_names: true,
              }),
            );
            m.push(
              ...compare(
                'grpc',
                repo,
                accepted,
                group,
                idx.map((i) => want[i]!),
                g,
                carried,
              ),
            );
            // gRPC says what REST says: statuses and event times too.
            if (
              JSON.stringify([g.names, g.statuses, g.eventTs]) !==
              JSON.stringify([rest.names, rest.statuses, rest.eventTs])
            )
              m.push(
                problem(
                  'grpc',
                  t,
                  JSON.stringify([g.statuses, g.eventTs]),
                  JSON.stringify([rest.statuses, rest.eventTs]),
                ),
              );
            return m;
          })),
        );
      }
      return out;
    },
    post: (path, body, t) => {
      readAt = t;
      return post(path, body, false);
    },
    counts: () => ({ fastify: viaFastify, fastPath: viaFastPath, grpc: viaGrpc }),
    async close() {
      client.close();
      await new Promise<void>((r) => grpcServer.tryShutdown(() => r()));
      agent.destroy();
      await app.close();
      const { store } = state.current;
      await store.teardown();
      await store.close();
      tmp.cleanup();
    },
  };
}

/**
 * How a client writes JSON: `js` as `JSON.stringify` (-0 as `0`); `python` as Python's
 * `json.dumps` (`", "` and `": "` separators, non-ASCII escaped as `\uXXXX` — UTF-16 units,
 * so an emoji is a surrogate pair — and whole numbers as a float column writes them: `-0.0`, `3.0`);
 * `exponent` with every number in exponent form (`1.999e+1`). Every style parses back to the
 * same values, except that `js` and `exponent` write -0 as 0; ±Infinity is written `±1e400` in
 * every style.
 */
export type JsonStyle = 'js' | 'python' | 'exponent';
export const JSON_STYLES: readonly JsonStyle[] = ['js', 'python', 'exponent'];

export function clientJson(v: unknown, style: JsonStyle): string {
  const sep = style === 'python' ? [', ', ': '] : [',', ':'];
  const write = (x: unknown): string => {
    if (x === null || x === undefined) return 'null';
    if (typeof x === 'number') {
      // ±Infinity: the only JSON that parses to it, a number beyond float64's range. NaN has
      // none (`NaN` is not JSON).
      if (Number.isNaN(x)) throw new Error('NaN has no JSON');
      if (!Number.isFinite(x)) return x > 0 ? '1e400' : '-1e400';
      if (style === 'js') return String(x); // JSON.stringify's digits (-0 → "0")
      if (style === 'exponent') return x.toExponential();
      if (Object.is(x, -0)) return '-0.0';
      return Number.isInteger(x) && Math.abs(x) < 1e16 ? `${x}.0` : String(x);
    }
    if (typeof x === 'string')
      return style === 'python'
        ? JSON.stringify(x).replace(
            /[\u0080-\uffff]/g,
            (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
          )
        : JSON.stringify(x);
    if (typeof x === 'boolean') return String(x);
    if (Array.isArray(x)) return `[${x.map(write).join(sep[0])}]`;
    return `{${Object.entries(x as Rec)
      .filter(([, e]) => e !== undefined)
      .map(([k, e]) => `${write(k)}${sep[1]}${write(e)}`)
      .join(sep[0])}}`;
  };
  return write(v);
}

const problem = (path: string, t: number, got: unknown, want: unknown): Mismatch => ({
  path,
  feature: '(answer)',
  key: '',
  t,
  got,
  want,
});

/** A request value as Feast's `Value` (null: an empty Value). */
function protoValue(v: unknown): ProtoValue {
  if (v === null || v === undefined) return {};
  if (typeof v === 'number') return { double_val: v };
  return { string_val: String(v) };
}

/**
 * Feast JSON → columns; a non-finite double of a `float64` column (`doubles`) arrives as the
 * string protobuf prints ("NaN", "Infinity", "-Infinity").
 */
function decodeJson(text: string, doubles: ReadonlySet<string>): Decoded {
  const body = JSON.parse(text) as {
    metadata: { feature_names: string[] };
    results: { values: unknown[]; statuses: string[]; event_timestamps: string[] }[];
  };
  const nonFinite: Record<string, number> = { NaN, Infinity, '-Infinity': -Infinity };
  const names = body.metadata.feature_names;
  return {
    names,
    values: body.results.map((r, c) =>
      doubles.has(names[c]!)
        ? r.values.map((v) => (typeof v === 'string' && v in nonFinite ? nonFinite[v] : v))
        : r.values,
    ),
    statuses: body.results.map((r) => r.statuses),
    eventTs: body.results.map((r) => r.event_timestamps.map((s) => Date.parse(s))),
  };
}

function decodeGrpc(res: GrpcResponse): Decoded {
  return {
    names: res.metadata.feature_names.val ?? [],
    values: res.results.map((r) => (r.values ?? []).map(fromProtoValue)),
    statuses: res.results.map((r) => r.statuses ?? []),
    eventTs: res.results.map((r) =>
      (r.event_timestamps ?? []).map((ts) => (ts.seconds ?? 0) * 1000 + (ts.nanos ?? 0) / 1e6),
    ),
  };
}

/** A decoded answer's values vs the reference, and its statuses vs its values. */
function compare(
  path: string,
  repo: Repository,
  fuzzCase: FuzzCase,
  rows: readonly EntityRow[],
  want: readonly Record<string, unknown>[],
  got: Decoded,
  carried: Map<string, Set<string>>,
): Mismatch[] {
  const out: Mismatch[] = [];
  const column = (name: string): number => got.names.indexOf(name);
  rows.forEach((row, i) => {
    for (const [name, w] of Object.entries(want[i]!)) {
      const c = column(name);
      const value = c < 0 ? '(no column)' : (got.values[c]![i] ?? null);
      if (!sameFeatureValue(repo, fuzzCase, name, row, value, w ?? null))
        out.push(mismatch(path, repo, name, row, value, w));
    }
    for (const def of repo.featureViews.values()) {
      const view = def.spec;
      const statuses = view.features.map(
        (f) => got.statuses[column(`${view.name}__${f.name}`)]?.[i],
      );
      const notFound = statuses.filter((s) => s === 'NOT_FOUND').length;
      const keys = def.entityDefs.map((e) => row[e.spec.joinKey] as string);
      if (carried.get(view.name)?.has(JSON.stringify(keys)) === false && notFound === 0)
        out.push(
          mismatch(
            path,
            repo,
            `${view.name}__(statuses)`,
            row,
            statuses,
            'NOT_FOUND (a key no record carries)',
          ),
        );
      if (notFound !== 0 && notFound !== statuses.length)
        out.push(
          mismatch(path, repo, `${view.name}__(statuses)`, row, statuses, 'all or no NOT_FOUND'),
        );
      view.features.forEach((f, j) => {
        const name = `${view.name}__${f.name}`;
        const c = column(name);
        const why = statusProblem(
          f,
          view.ttlMs,
          row.event_timestamp,
          got.values[c]?.[i] ?? null,
          statuses[j],
          got.eventTs[c]?.[i] ?? 0,
        );
        if (why) out.push(mismatch(path, repo, `${name} (status)`, row, statuses[j], why));
      });
    }
    for (const f of onDemandFeatures(repo)) {
      const c = column(`${f.view}__${f.feature}`);
      const status = got.statuses[c]?.[i];
      const v = got.values[c]?.[i] ?? null;
      if (status !== (v === null ? 'NULL_VALUE' : 'PRESENT'))
        out.push(
          mismatch(
            path,
            repo,
            `${f.view}__${f.feature} (status)`,
            row,
            status,
            v === null ? 'NULL_VALUE' : 'PRESENT',
          ),
        );
    }
  });
  return out;
}

/**
 * For each view whose keys are plain columns, the key tuples its source's records carry (JSON
 * of the tuple): a key tuple no record carries has no data in the view (NOT_FOUND).
 */
function carriedKeys(c: FuzzCase): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const v of c.plans) {
    const keys = [v.key, ...(v.productKey ? [v.productKey] : [])];
    if (!keys.every(isPlainColumn)) continue;
    const carried = new Set<string>();
    for (const r of c.records)
      if (r.source === v.source)
        carried.add(JSON.stringify(keys.map((k) => valueAt(r.record, (k as { col: string }).col))));
    out.set(v.name, carried);
  }
  return out;
}

const isPlainColumn = (k: ViewPlan['key']): boolean =>
  typeof k === 'object' && k !== null && Object.keys(k).join() === 'col';

const valueAt = (r: Rec, path: string): unknown =>
  path
    .split('.')
    .reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Rec)[k] : undefined), r);

/**
 * Why a view feature's status does not fit its value (docs/api.md "Statuses"), or null:
 * PRESENT has a value; NULL_VALUE has none; NOT_FOUND reads the empty window's value (null, 0
 * or []) stamped at the epoch; OUTSIDE_MAX_AGE is a lifetime value (null) stamped with its
 * event time, older than the view's TTL.
 */
export function statusProblem(
  f: FeatureSpec,
  ttlMs: number,
  t: number,
  value: unknown,
  status: string | undefined,
  eventTs: number,
): string | null {
  const lifetime = f.windowMs === null && f.sequence === undefined;
  switch (status) {
    case 'PRESENT':
      return value === null ? 'a value (PRESENT)' : null;
    case 'NULL_VALUE':
      return value !== null ? 'null (NULL_VALUE)' : null;
    case 'NOT_FOUND':
      return !(value === null || value === 0 || (Array.isArray(value) && value.length === 0))
        ? 'the empty value (NOT_FOUND)'
        : eventTs !== 0
          ? 'no event time (NOT_FOUND)'
          : null;
    case 'OUTSIDE_MAX_AGE':
      return !lifetime || value !== null || !(t - eventTs > ttlMs)
        ? 'a lifetime value older than the TTL (OUTSIDE_MAX_AGE)'
        : null;
    default:
      return 'a status';
  }
}

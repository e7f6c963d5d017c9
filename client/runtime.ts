/**
 * The runtime of Larder's TypeScript client: REST calls to `larder serve` with a per-request
 * timeout, retries with exponential backoff and full jitter on transient failures only, HTTP
 * keep-alive and an API key. `larder codegen` copies this file verbatim next to the generated
 * `client.ts`, so it imports nothing but Node's built-ins (`.dependency-cruiser.cjs` rule
 * `client-runtime-standalone`).
 *
 * Retried: network errors, timeouts, 503 and 429 (waiting the `Retry-After` seconds when the
 * server sends them). Never retried: any other status. Every request is safe to repeat: reads
 * change nothing, and a push always carries an `Idempotency-Key` (the caller's, or a random UUID
 * per `push` call), the same on every retry, so the server applies it once.
 *
 * With `transport: 'grpc'`, `getOnlineFeatures` goes through an {@link OnlineReader} instead:
 * `grpc-transport.ts`, written next to this file by `larder codegen --grpc` (push stays REST).
 */
import http from 'node:http';
import https from 'node:https';
import { randomUUID } from 'node:crypto';

/** How a client reaches the server. */
export interface ClientOptions {
  /** The server's base URL, e.g. `http://127.0.0.1:6566`. */
  url: string;
  /** Sent as `authorization: Bearer <apiKey>` (create one with `larder keys create`). */
  apiKey?: string;
  /** Per attempt, ms (default 5000); an attempt that takes longer is aborted and retried. */
  timeoutMs?: number;
  /** Retries after the first attempt (default 2; 0 disables retrying). */
  retries?: number;
  /** Base backoff, ms (default 100): attempt k waits a random time in [0, min(max, base·2^k)). */
  backoffMs?: number;
  /** Backoff cap, ms (default 2000); a longer `Retry-After` is still honoured. */
  maxBackoffMs?: number;
  /** Keep connections open between requests (default true). */
  keepAlive?: boolean;
  /**
   * How `getOnlineFeatures` travels (default `'rest'`). `'grpc'` needs a client generated with
   * `larder codegen --grpc` (its `grpc-transport.ts`); `push` and `http` stay REST.
   */
  transport?: 'rest' | 'grpc';
  /** The gRPC server, `host:port` (default: the `url`'s host, port 6570, `serve.grpcPort`'s default). */
  grpcAddress?: string;
}

/** Per-call options. */
export interface CallOptions {
  /** Aborts the call (all attempts); it rejects with the signal's reason. */
  signal?: AbortSignal;
}

export type FeatureStatus = 'PRESENT' | 'NOT_FOUND' | 'NULL_VALUE' | 'OUTSIDE_MAX_AGE';

/** One column of an online read, as the server returns it: one entry per entity row. */
export interface Column<V> {
  values: (V | null)[];
  statuses: FeatureStatus[];
  /** ISO-8601 UTC; `1970-01-01T00:00:00Z` when the value has no event time. */
  event_timestamps: string[];
}

/** The shape of one feature service: what a row sends and which columns come back. */
export interface ServiceShape {
  entities: Record<string, string | number | boolean | null>;
  columns: Record<string, string | number | boolean | string[] | number[]>;
}

/** The answer of `getOnlineFeatures`: the columns by name, in the server's order in `names`. */
export interface OnlineFeatures<C extends Record<string, unknown>> {
  names: (keyof C & string)[];
  columns: { [N in keyof C]: Column<C[N]> };
}

/** `POST /push`'s answer. */
export interface PushResult {
  rows: number;
  views: string[];
  file: string | null;
  /** True when the server answered a repeated Idempotency-Key with the first push's answer. */
  replayed: boolean;
}

/**
 * A failed call. `code` is Larder's error code (`LARDER_BAD_REQUEST`, ...; docs/errors.md), or
 * the client's own `CLIENT_TIMEOUT` / `CLIENT_NETWORK` when no answer arrived, or `HTTP_<status>`
 * for an answer without Larder's error body (a proxy's 502); `status` is the HTTP
 * status (null without an answer). `retriable` says whether the client retried it (it did, up to
 * `retries` times, before throwing).
 */
export class LarderClientError extends Error {
  override readonly name = 'LarderClientError';
  readonly code: string;
  readonly status: number | null;
  readonly retriable: boolean;
  readonly field: string | undefined;
  readonly hint: string | undefined;
  readonly reason: string | undefined;
  /** Feast's exception class on the Feast routes (`FeatureServiceNotFoundException`, ...). */
  readonly feastClass: string | undefined;
  /** Attempts made, retries included. */
  readonly attempts: number;
  /** The gRPC status code of a failed gRPC call (`status` is then null). */
  readonly grpcCode: number | undefined;

  constructor(
    message: string,
    o: {
      code: string;
      status: number | null;
      retriable: boolean;
      attempts: number;
      field?: string;
      hint?: string;
      reason?: string;
      feastClass?: string;
      grpcCode?: number;
      cause?: unknown;
    },
  ) {
    super(message, o.cause === undefined ? undefined : { cause: o.cause });
    this.code = o.code;
    this.status = o.status;
    this.retriable = o.retriable;
    this.attempts = o.attempts;
    this.field = o.field;
    this.hint = o.hint;
    this.reason = o.reason;
    this.feastClass = o.feastClass;
    this.grpcCode = o.grpcCode;
  }
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/**
 * The error of an answer: Larder's `{"error": {...}}`, or on the Feast routes a JSON string
 * holding Feast's detail (`{"module","class","message","code",...}`) plus `larder-error-code`.
 */
function errorOf(a: Answer, attempts: number): LarderClientError {
  let body: unknown = null;
  try {
    body = JSON.parse(a.text);
    if (typeof body === 'string') body = JSON.parse(body);
  } catch {
    body = null;
  }
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const e = (typeof b['error'] === 'object' && b['error'] !== null ? b['error'] : b) as Record<
    string,
    unknown
  >;
  const header = a.headers['larder-error-code'];
  const code = str(e['code']) ?? str(header) ?? `HTTP_${a.status}`;
  return new LarderClientError(str(e['message']) ?? `HTTP ${a.status}: ${a.text.slice(0, 200)}`, {
    code,
    status: a.status,
    retriable: isTransientStatus(a.status),
    attempts,
    ...(str(e['field']) !== undefined ? { field: str(e['field'])! } : {}),
    ...(str(e['hint']) !== undefined ? { hint: str(e['hint'])! } : {}),
    ...(str(e['reason']) !== undefined ? { reason: str(e['reason'])! } : {}),
    ...(str(e['class']) !== undefined ? { feastClass: str(e['class'])! } : {}),
  });
}

/** A successful answer's JSON; one that is not JSON (not Larder's answer) is `HTTP_<status>`. */
function parseAnswer(a: Answer, attempts: number): unknown {
  try {
    return JSON.parse(a.text) as unknown;
  } catch (e) {
    throw new LarderClientError(
      `HTTP ${a.status}: the answer is not JSON: ${a.text.slice(0, 200)}`,
      {
        code: `HTTP_${a.status}`,
        status: a.status,
        retriable: false,
        attempts,
        cause: e,
      },
    );
  }
}

const isTransientStatus = (status: number): boolean => status === 503 || status === 429;

/** Sleeps `ms`; rejects with the signal's reason when it aborts. */
export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal!.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/**
 * The wait before retry `attempt + 1` (attempt 0 is the first): a random time in
 * [0, min(maxBackoffMs, backoffMs·2^attempt)), or the server's `retryAfterMs` when longer.
 */
export function backoffDelay(
  attempt: number,
  o: { backoffMs: number; maxBackoffMs: number },
  retryAfterMs?: number,
): number {
  const cap = Math.min(o.maxBackoffMs, o.backoffMs * 2 ** attempt);
  return Math.max(retryAfterMs ?? 0, Math.random() * cap);
}

/**
 * Reads a feature service by another transport than REST (`larder codegen --grpc`'s
 * `GrpcTransport`); answers exactly what the REST read answers.
 */
export interface OnlineReader {
  read(
    service: string,
    rows: readonly object[],
    fullFeatureNames: boolean,
    options: CallOptions,
  ): Promise<{ names: string[]; columns: Record<string, Column<unknown>> }>;
  close(): void;
}

/**
 * A JSON-over-HTTP connection to a Larder server with the retry policy above.
 *
 * @example
 * const http = new LarderHttp({ url: 'http://127.0.0.1:8566', apiKey: key });
 * const registry = await http.request('GET', '/registry');
 * http.close();
 */
export class LarderHttp {
  readonly #base: URL;
  readonly #agent: http.Agent;
  readonly #opts: Required<Omit<ClientOptions, 'apiKey' | 'url' | 'transport' | 'grpcAddress'>> & {
    apiKey?: string;
  };

  constructor(opts: ClientOptions) {
    this.#base = new URL(opts.url);
    const keepAlive = opts.keepAlive ?? true;
    this.#agent =
      this.#base.protocol === 'https:'
        ? new https.Agent({ keepAlive })
        : new http.Agent({ keepAlive });
    this.#opts = {
      timeoutMs: opts.timeoutMs ?? 5000,
      retries: opts.retries ?? 2,
      backoffMs: opts.backoffMs ?? 100,
      maxBackoffMs: opts.maxBackoffMs ?? 2000,
      keepAlive,
      ...(opts.apiKey !== undefined ? { apiKey: opts.apiKey } : {}),
    };
  }

  /** Sends a request, retrying transient failures; resolves with the parsed JSON answer. */
  async request(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    options: CallOptions & { headers?: Record<string, string> } = {},
  ): Promise<{ body: unknown; headers: http.IncomingHttpHeaders }> {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (text !== undefined) headers['content-type'] = 'application/json';
    if (this.#opts.apiKey !== undefined) headers['authorization'] = `Bearer ${this.#opts.apiKey}`;
    for (let attempt = 0; ; attempt++) {
      const last = attempt >= this.#opts.retries;
      let failure: LarderClientError;
      let retryAfterMs: number | undefined;
      try {
        const a = await this.#once(method, path, headers, text, options.signal);
        if (a.status >= 200 && a.status < 300)
          return {
            body: a.text === '' ? null : parseAnswer(a, attempt + 1),
            headers: a.headers,
          };
        failure = errorOf(a, attempt + 1);
        const ra = Number(a.headers['retry-after']);
        if (Number.isFinite(ra) && ra >= 0) retryAfterMs = ra * 1000;
      } catch (e) {
        if (e instanceof LarderClientError) throw e;
        if (options.signal?.aborted) throw options.signal.reason;
        const timedOut = (e as Error).name === 'TimeoutError';
        failure = new LarderClientError(
          timedOut
            ? `${method} ${path}: no answer within ${this.#opts.timeoutMs} ms`
            : `${method} ${path}: ${(e as Error).message}`,
          {
            code: timedOut ? 'CLIENT_TIMEOUT' : 'CLIENT_NETWORK',
            status: null,
            retriable: true,
            attempts: attempt + 1,
            cause: e,
          },
        );
      }
      if (!failure.retriable || last) throw failure;
      await sleep(backoffDelay(attempt, this.#opts, retryAfterMs), options.signal);
    }
  }

  #once(
    method: string,
    path: string,
    headers: Record<string, string>,
    text: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Answer> {
    const timeout = AbortSignal.timeout(this.#opts.timeoutMs);
    const both = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const url = new URL(path, this.#base);
    const lib = url.protocol === 'https:' ? https : http;
    return new Promise<Answer>((resolve, reject) => {
      // An abort by the timeout (while sending or reading the answer) rejects as a TimeoutError.
      const fail = (e: Error): void =>
        reject(timeout.aborted && signal?.aborted !== true ? (timeout.reason as Error) : e);
      const req = lib.request(
        url,
        {
          method,
          agent: this.#agent,
          headers:
            text === undefined
              ? headers
              : { ...headers, 'content-length': String(Buffer.byteLength(text)) },
          signal: both,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', fail);
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              text: Buffer.concat(chunks).toString('utf8'),
            }),
          );
        },
      );
      req.on('error', fail);
      req.end(text);
    });
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.#agent.destroy();
  }
}

/** Rows as columns (Larder's wire format); a field missing from a row is null in that row. */
export function columnWise(rows: readonly object[]): Record<string, unknown[]> {
  const cols: Record<string, unknown[]> = {};
  rows.forEach((row, i) => {
    for (const [k, v] of Object.entries(row))
      (cols[k] ??= new Array<unknown>(i).fill(null)).push(v);
    for (const col of Object.values(cols)) if (col.length === i) col.push(null);
  });
  return cols;
}

/**
 * The typed client: `S` maps each feature service to its entity row and column types (the
 * generated `Services` type), so a misspelled service or column name is a compile error; `P`
 * is the names of the pushable sources (the generated `PushSource`).
 *
 * @example
 * const client = new LarderClient<Services>({ url: 'http://127.0.0.1:6566' });
 * const r = await client.getOnlineFeatures('recommendation_v1', [{ user_id: 'u1', product_id: 'p1' }]);
 * r.columns.page_views_1h.values[0]; // number | null
 */
export class LarderClient<S extends Record<string, ServiceShape>, P extends string = string> {
  readonly http: LarderHttp;
  readonly #fullFeatureNames: boolean;
  readonly #reader: OnlineReader | undefined;

  /**
   * `settings.reader` serves `getOnlineFeatures` when `opts.transport` is `'grpc'`; without one
   * that transport throws a TypeError (the client was generated without `--grpc`).
   */
  constructor(
    opts: ClientOptions,
    settings: { fullFeatureNames?: boolean; reader?: OnlineReader } = {},
  ) {
    if (opts.transport === 'grpc' && settings.reader === undefined)
      throw new TypeError(
        "transport 'grpc' needs a client generated with `larder codegen --grpc` (grpc-transport.ts)",
      );
    this.http = new LarderHttp(opts);
    this.#fullFeatureNames = settings.fullFeatureNames ?? false;
    this.#reader = opts.transport === 'grpc' ? settings.reader : undefined;
  }

  /**
   * `POST /get-online-features` for a feature service; rows are sent column-wise. With
   * `transport: 'grpc'`, `ServingService.GetOnlineFeatures` instead, with the same answer.
   */
  async getOnlineFeatures<K extends keyof S & string>(
    service: K,
    rows: readonly S[K]['entities'][],
    options: CallOptions = {},
  ): Promise<OnlineFeatures<S[K]['columns']>> {
    if (this.#reader)
      return (await this.#reader.read(
        service,
        rows,
        this.#fullFeatureNames,
        options,
      )) as OnlineFeatures<S[K]['columns']>;
    const entities = columnWise(rows);
    const { body } = await this.http.request(
      'POST',
      '/get-online-features',
      { feature_service: service, entities, full_feature_names: this.#fullFeatureNames },
      options,
    );
    const b = body as {
      metadata: { feature_names: string[] };
      results: Column<unknown>[];
    };
    const columns: Record<string, Column<unknown>> = {};
    b.metadata.feature_names.forEach((name, i) => (columns[name] = b.results[i]!));
    return {
      names: b.metadata.feature_names as (keyof S[K]['columns'] & string)[],
      columns: columns as OnlineFeatures<S[K]['columns']>['columns'],
    };
  }

  /**
   * `POST /push`: rows of a push source's schema, written `to` the online store (default), the
   * offline store or both. Sends `idempotencyKey` (default: a random UUID) on every attempt.
   */
  async push(
    pushSource: P,
    rows: readonly Record<string, unknown>[],
    options: CallOptions & {
      to?: 'online' | 'offline' | 'online_and_offline';
      idempotencyKey?: string;
    } = {},
  ): Promise<PushResult> {
    const df = columnWise(rows);
    const { body, headers } = await this.http.request(
      'POST',
      '/push',
      { push_source_name: pushSource, df, to: options.to ?? 'online' },
      {
        ...(options.signal ? { signal: options.signal } : {}),
        headers: { 'idempotency-key': options.idempotencyKey ?? randomUUID() },
      },
    );
    return {
      ...(body as Omit<PushResult, 'replayed'>),
      replayed: headers['idempotent-replayed'] === 'true',
    };
  }

  /** Closes the kept-alive connections (and the gRPC channel). */
  close(): void {
    this.http.close();
    this.#reader?.close();
  }
}

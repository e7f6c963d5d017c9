/**
 * The gRPC transport of Larder's TypeScript client: `getOnlineFeatures` over Feast's
 * `feast.serving.ServingService.GetOnlineFeatures` (what `larder serve` serves on its gRPC
 * port), answering exactly what the REST read answers: values as JSON scalars (null when
 * missing; non-finite doubles as `"NaN"`, `"Infinity"`, `"-Infinity"`, as REST prints them),
 * statuses by name, event timestamps in RFC 3339 UTC (`1970-01-01T00:00:00Z` when none).
 *
 * `larder codegen --grpc` copies this file next to `client.ts` and `runtime.ts` (its import of
 * `./runtime.ts` rewritten to `./runtime.js`) with Feast's protos under `protos/`; it imports
 * only Node built-ins, `@grpc/grpc-js` and `@grpc/proto-loader` (`.dependency-cruiser.cjs`
 * rule `client-grpc-transport-standalone`), which the user's project installs.
 *
 * Entity values are encoded by the type codegen knows for each join key and request field
 * (int64 → int64_val, float64 → double_val, string → string_val, bool → bool_val; null → an
 * empty Value). Each attempt has a deadline of `timeoutMs`; UNAVAILABLE (no connection
 * included) and RESOURCE_EXHAUSTED with `retry-after` metadata (Larder's rate limit) are retried
 * with the REST backoff (waiting the `retry-after` seconds when longer); nothing else is. The API key is sent as `authorization: Bearer`.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';
import {
  backoffDelay,
  LarderClientError,
  sleep,
  type CallOptions,
  type ClientOptions,
  type Column,
  type FeatureStatus,
  type OnlineReader,
} from './runtime.ts';

export type FieldType = 'int64' | 'float64' | 'string' | 'bool';

/** Per feature service: its join keys' and request fields' types (the generated `FIELD_TYPES`). */
export type FieldTypes = Record<
  string,
  { joinKeys: Record<string, FieldType>; requestFields: Record<string, FieldType> }
>;

type ProtoValue = Record<string, unknown> & { val?: string };

interface ProtoResponse {
  metadata?: { feature_names?: { val?: string[] } };
  results?: {
    values?: ProtoValue[];
    statuses?: FeatureStatus[];
    event_timestamps?: { seconds?: number; nanos?: number }[];
  }[];
}

type UnaryMethod = (
  req: unknown,
  md: grpc.Metadata,
  opts: grpc.CallOptions,
  cb: (e: grpc.ServiceError | null, r: ProtoResponse) => void,
) => grpc.ClientUnaryCall;

const VALUE_FIELD: Record<FieldType, string> = {
  int64: 'int64_val',
  float64: 'double_val',
  string: 'string_val',
  bool: 'bool_val',
};

/** A Value for an entity field of a known type (null → an empty Value, as Feast sends). */
function encode(v: unknown, type: FieldType): ProtoValue {
  return v === null || v === undefined ? {} : { [VALUE_FIELD[type]]: v };
}

/** A decoded Value as REST prints it. */
function decode(v: ProtoValue | undefined): unknown {
  if (!v?.val || v.val === 'null_val') return null;
  const x = v[v.val];
  // A list (`string_list_val`, `int64_list_val`, `double_list_val`): `{ val: [...] }`.
  if (x !== null && typeof x === 'object') return (x as { val?: unknown[] }).val ?? [];
  if (typeof x === 'number' && !Number.isFinite(x))
    return Number.isNaN(x) ? 'NaN' : x > 0 ? 'Infinity' : '-Infinity';
  return x ?? null;
}

/** A protobuf Timestamp as REST prints it: fraction digits only when non-zero. */
function timestamp(t: { seconds?: number; nanos?: number } | undefined): string {
  const ms = (t?.seconds ?? 0) * 1000 + Math.floor((t?.nanos ?? 0) / 1e6);
  if (ms === 0) return '1970-01-01T00:00:00Z';
  const iso = new Date(ms).toISOString();
  return ms % 1000 === 0 ? `${iso.slice(0, 19)}Z` : iso;
}

const one = (md: grpc.Metadata, name: string): string | undefined => {
  const v = md.get(name)[0];
  return typeof v === 'string' ? v : undefined;
};

/**
 * UNAVAILABLE is retried; RESOURCE_EXHAUSTED only with the server's `retry-after` (Larder's
 * rate limit): without it, it is a message over a size limit, which no retry fixes.
 */
const retried = (code: number, md: grpc.Metadata): boolean =>
  code === grpc.status.UNAVAILABLE ||
  (code === grpc.status.RESOURCE_EXHAUSTED && one(md, 'retry-after') !== undefined);

/**
 * A failed call as a LarderClientError: Larder's code from the `larder-error-code` metadata (the
 * hint split off the details), else `CLIENT_TIMEOUT` for an expired deadline, `CLIENT_NETWORK`
 * for UNAVAILABLE without an answer, `GRPC_<STATUS>` otherwise.
 */
function errorOf(e: grpc.ServiceError, attempts: number, timeoutMs: number): LarderClientError {
  const md = e.metadata ?? new grpc.Metadata();
  const larder = one(md, 'larder-error-code');
  const hinted = /^([\s\S]*) \(hint: ([\s\S]*)\)$/.exec(e.details ?? '');
  const code =
    larder ??
    (e.code === grpc.status.DEADLINE_EXCEEDED
      ? 'CLIENT_TIMEOUT'
      : e.code === grpc.status.UNAVAILABLE
        ? 'CLIENT_NETWORK'
        : `GRPC_${grpc.status[e.code] ?? e.code}`);
  const message =
    larder === undefined && e.code === grpc.status.DEADLINE_EXCEEDED
      ? `GetOnlineFeatures: no answer within ${timeoutMs} ms`
      : larder !== undefined && hinted
        ? hinted[1]!
        : e.details || e.message;
  const field = one(md, 'larder-error-field');
  const reason = one(md, 'larder-error-reason');
  return new LarderClientError(message, {
    code,
    status: null,
    grpcCode: e.code,
    retriable: retried(e.code, md),
    attempts,
    ...(larder !== undefined && hinted ? { hint: hinted[2]! } : {}),
    ...(field !== undefined ? { field } : {}),
    ...(reason !== undefined ? { reason } : {}),
    cause: e,
  });
}

/**
 * `getOnlineFeatures` over gRPC; `createClient({ transport: 'grpc', ... })` of a client
 * generated with `--grpc` builds one.
 *
 * @example
 * const client = createClient({ url: 'http://127.0.0.1:6566', transport: 'grpc' });
 */
export class GrpcTransport implements OnlineReader {
  readonly #client: grpc.Client;
  readonly #method: UnaryMethod;
  readonly #types: FieldTypes;
  readonly #o: {
    apiKey: string | undefined;
    timeoutMs: number;
    retries: number;
    backoffMs: number;
    maxBackoffMs: number;
  };

  /** `protoDir`: the folder holding `feast/serving/ServingService.proto` (default `./protos`). */
  constructor(
    opts: ClientOptions,
    types: FieldTypes,
    protoDir: string = fileURLToPath(new URL('./protos/', import.meta.url)),
  ) {
    const def = protoLoader.loadSync('feast/serving/ServingService.proto', {
      includeDirs: [protoDir],
      keepCase: true,
      longs: Number,
      enums: String,
      defaults: false,
      oneofs: true,
    });
    const pkg = grpc.loadPackageDefinition(def) as unknown as {
      feast: { serving: { ServingService: grpc.ServiceClientConstructor } };
    };
    const address = opts.grpcAddress ?? `${new URL(opts.url).hostname}:6570`;
    this.#client = new pkg.feast.serving.ServingService(address, grpc.credentials.createInsecure());
    const m = (this.#client as unknown as Record<string, UnaryMethod>)['GetOnlineFeatures']!;
    this.#method = m.bind(this.#client);
    this.#types = types;
    this.#o = {
      apiKey: opts.apiKey,
      timeoutMs: opts.timeoutMs ?? 5000,
      retries: opts.retries ?? 2,
      backoffMs: opts.backoffMs ?? 100,
      maxBackoffMs: opts.maxBackoffMs ?? 2000,
    };
  }

  /** The request message: join keys under `entities`, request fields under `request_context`. */
  #request(service: string, rows: readonly object[], fullFeatureNames: boolean): unknown {
    const t = this.#types[service];
    if (!t)
      throw new LarderClientError(`feature service "${service}" is not in this client`, {
        code: 'CLIENT_UNKNOWN_SERVICE',
        status: null,
        retriable: false,
        attempts: 0,
        hint: 'regenerate the client with larder codegen --grpc',
      });
    const column = (fields: Record<string, FieldType>) =>
      Object.fromEntries(
        Object.entries(fields).map(([name, type]) => [
          name,
          { val: rows.map((r) => encode((r as Record<string, unknown>)[name], type)) },
        ]),
      );
    return {
      feature_service: service,
      entities: column(t.joinKeys),
      request_context: column(t.requestFields),
      full_feature_names: fullFeatureNames,
    };
  }

  #once(req: unknown, signal: AbortSignal | undefined): Promise<ProtoResponse> {
    const md = new grpc.Metadata();
    if (this.#o.apiKey !== undefined) md.set('authorization', `Bearer ${this.#o.apiKey}`);
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason as Error);
      const onAbort = (): void => call.cancel();
      const call = this.#method(req, md, { deadline: Date.now() + this.#o.timeoutMs }, (e, r) => {
        signal?.removeEventListener('abort', onAbort);
        if (signal?.aborted) reject(signal.reason as Error);
        else if (e) reject(e);
        else resolve(r);
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  async read(
    service: string,
    rows: readonly object[],
    fullFeatureNames: boolean,
    options: CallOptions,
  ): Promise<{ names: string[]; columns: Record<string, Column<unknown>> }> {
    const req = this.#request(service, rows, fullFeatureNames);
    for (let attempt = 0; ; attempt++) {
      let r: ProtoResponse;
      try {
        r = await this.#once(req, options.signal);
      } catch (e) {
        if (options.signal?.aborted) throw options.signal.reason;
        const failure = errorOf(e as grpc.ServiceError, attempt + 1, this.#o.timeoutMs);
        if (!failure.retriable || attempt >= this.#o.retries) throw failure;
        const md = (e as grpc.ServiceError).metadata ?? new grpc.Metadata();
        const ra = Number(one(md, 'retry-after'));
        const retryAfterMs = Number.isFinite(ra) && ra >= 0 ? ra * 1000 : undefined;
        await sleep(backoffDelay(attempt, this.#o, retryAfterMs), options.signal);
        continue;
      }
      const names = r.metadata?.feature_names?.val ?? [];
      const columns: Record<string, Column<unknown>> = {};
      names.forEach((name, i) => {
        const c = r.results?.[i];
        columns[name] = {
          values: (c?.values ?? []).map(decode),
          statuses: c?.statuses ?? [],
          event_timestamps: (c?.event_timestamps ?? []).map(timestamp),
        };
      });
      return { names, columns };
    }
  }

  /** Closes the channel. */
  close(): void {
    this.#client.close();
  }
}

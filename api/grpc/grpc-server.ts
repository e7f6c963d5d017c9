/**
 * Feast's `feast.serving.ServingService` over gRPC (@grpc/grpc-js): `GetFeastServingInfo` and
 * `GetOnlineFeatures`, served from the same context as the HTTP API. Auth: metadata
 * `authorization: Bearer KEY` (or `x-api-key`); errors map to the registry's gRPC codes.
 */
import * as grpc from '@grpc/grpc-js';
import { serveOnlineFeatures, type OnlineFeaturesRequest } from '../../retrieval/index.ts';
import { LarderError } from '../../core/errors.ts';
import { authorize, credentialOf } from '../auth/authorize.ts';
import { errorReply } from '../error-body.ts';
import { logServed } from '../feature-server/log-served.ts';
import type { ServerContext } from '../server-context.ts';
import { fromProtoValue, toProtoResponse, type ProtoValue } from './feast-proto-values.ts';
import { loadServingService } from './load-serving-proto.ts';

interface GrpcRequest {
  kind?: 'feature_service' | 'features';
  feature_service?: string;
  features?: { val?: string[] };
  entities?: Record<string, { val?: ProtoValue[] }>;
  request_context?: Record<string, { val?: ProtoValue[] }>;
  full_feature_names?: boolean;
}

export const LARDER_SERVING_VERSION = 'larder-0.1.0';

/** What a request deserializer returns for bytes that are not a valid message. */
class MalformedMessage {
  constructor(readonly reason: string) {}
}

/**
 * The service definition with deserializers that never throw: grpc-js answers a deserializer's
 * exception with INTERNAL, but a malformed message is the client's error (INVALID_ARGUMENT).
 */
function tolerantService(def: grpc.ServiceDefinition): grpc.ServiceDefinition {
  return Object.fromEntries(
    Object.entries(def).map(([name, method]) => [
      name,
      {
        ...method,
        requestDeserialize: (bytes: Buffer): unknown => {
          try {
            return method.requestDeserialize(bytes);
          } catch (e) {
            return new MalformedMessage((e as Error).message);
          }
        },
      },
    ]),
  );
}

function checkWellFormed(request: unknown, type: string): void {
  if (request instanceof MalformedMessage)
    throw new LarderError('LARDER_BAD_REQUEST', `malformed ${type}: ${request.reason}`, {
      field: '(message)',
      hint: `send a feast.serving.${type} encoded with Feast's protos`,
      detail: { reason: 'malformed_body' },
    });
}

function toRequest(r: GrpcRequest): OnlineFeaturesRequest {
  const entities: Record<string, unknown[]> = {};
  for (const src of [r.entities, r.request_context])
    for (const [k, col] of Object.entries(src ?? {}))
      entities[k] = (col.val ?? []).map(fromProtoValue);
  let ref: OnlineFeaturesRequest['ref'];
  if (r.kind === 'feature_service' || r.feature_service) ref = { service: r.feature_service ?? '' };
  else if (r.features?.val?.length) ref = { features: r.features.val };
  else
    throw new LarderError('LARDER_BAD_REQUEST', 'set "features" or "feature_service"', {
      field: 'kind',
      detail: { reason: 'missing_field' },
    });
  return { ref, entities, fullFeatureNames: r.full_feature_names === true };
}

function header(md: grpc.Metadata, name: string): string | undefined {
  const v = md.get(name)[0];
  return typeof v === 'string' ? v : undefined;
}

/**
 * Creates the gRPC server (not bound); bind with {@link startGrpcServer}.
 *
 * @example
 * const server = createGrpcServer(ctx);
 */
export function createGrpcServer(
  ctx: ServerContext,
  opts: {
    /** Called for server-side failures (status INTERNAL: a bug, a failing on-demand transform), to log them. */
    onServerError?: (e: unknown, message: string, code: string) => void;
  } = {},
): grpc.Server {
  const service = loadServingService();
  const onStoreRead = (ms: number): void => ctx.metrics.storeSeconds.observe(ms / 1000);
  const server = new grpc.Server();
  const fail = (
    method: string,
    start: number,
    e: unknown,
    cb: grpc.sendUnaryData<unknown>,
  ): void => {
    const r = errorReply(e);
    if (r.status === 500) opts.onServerError?.(e, r.body.error.message, r.code);
    ctx.metrics.errors.inc({ code: r.code });
    ctx.metrics.grpcSeconds.observe(
      { method, code: String(r.grpc) },
      (performance.now() - start) / 1000,
    );
    const md = new grpc.Metadata();
    md.set('larder-error-code', r.code);
    if (r.body.error.field) md.set('larder-error-field', r.body.error.field);
    if (r.body.error.reason) md.set('larder-error-reason', r.body.error.reason);
    if (r.retryAfter !== undefined) md.set('retry-after', String(r.retryAfter));
    cb({
      code: r.grpc,
      details: r.body.error.message + (r.body.error.hint ? ` (hint: ${r.body.error.hint})` : ''),
      metadata: md,
    });
  };
  server.addService(tolerantService(service.service), {
    GetFeastServingInfo: (
      call: grpc.ServerUnaryCall<unknown, unknown>,
      cb: grpc.sendUnaryData<unknown>,
    ) => {
      cb(null, { version: LARDER_SERVING_VERSION });
    },
    GetOnlineFeatures: (
      call: grpc.ServerUnaryCall<GrpcRequest, unknown>,
      cb: grpc.sendUnaryData<unknown>,
    ) => {
      const start = performance.now();
      const snap = ctx.state.current;
      void (async () => {
        authorize(
          ctx.keys,
          ctx.limiter,
          credentialOf(header(call.metadata, 'authorization'), header(call.metadata, 'x-api-key')),
          'read',
        );
        checkWellFormed(call.request, 'GetOnlineFeaturesRequest');
        const req = toRequest(call.request);
        const res = await serveOnlineFeatures(snap, ctx, req, onStoreRead);
        // Logged like POST /get-online-features (same rows, same buffer).
        if (ctx.featureLog) logServed(ctx.featureLog, snap.repo, req, res);
        return toProtoResponse(res);
      })().then(
        (body) => {
          ctx.metrics.grpcSeconds.observe(
            { method: 'GetOnlineFeatures', code: '0' },
            (performance.now() - start) / 1000,
          );
          cb(null, body);
        },
        (e: unknown) => fail('GetOnlineFeatures', start, e, cb),
      );
    },
  });
  return server;
}

/** Binds and starts; resolves with the bound port (pass 0 for an ephemeral one). */
export function startGrpcServer(server: grpc.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(err) : resolve(bound),
    );
  });
}

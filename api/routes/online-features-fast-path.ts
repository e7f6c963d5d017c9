/**
 * `POST /get-online-features` answered from node:http directly, ahead of fastify's generic
 * request path (routing, request and reply objects, content-type parser, hook runners): the
 * serving hot path. It answers what `online-features-route.ts` answers through fastify — the same
 * body parser, shape check, read, Feast JSON writer and error bodies (`error-response.ts`), the
 * `Server-Timing` header, the request metrics and the dashboard's route window — and passes every
 * request it does not take, untouched, to fastify:
 *
 * - another method or URL (a query string included), or the server closing (fastify's 503);
 * - a Content-Type other than `application/json` (optionally `; charset=utf-8`);
 * - no Content-Length, a chunked body, an empty body or one over {@link BODY_LIMIT};
 * - API keys on and the request not authorized (fastify answers the 401 / 403 / 429);
 * - request logging on (`--log-level debug` or `trace`: one line per request is fastify's).
 *
 * `test/api/fast-path.test.ts` sends the same requests through both paths and compares the
 * answers. `FastPath.raw` is the same answer for a request read off a connection node:http does
 * not hold (`api/raw-http.ts`, which writes the header lines node:http would).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { serveOnlineFeatures } from '../../retrieval/index.ts';
import { authorize, credentialOf } from '../auth/authorize.ts';
import { BODY_LIMIT, errorResponse, type ErrorLog } from '../error-response.ts';
import { feastJsonPayload } from '../feature-server/feast-json.ts';
import { logServed } from '../feature-server/log-served.ts';
import { parseOnlineRequest } from '../feature-server/parse-online-request.ts';
import { parseJsonBody } from '../json-body.ts';
import type { ServerContext } from '../server-context.ts';

const ROUTE = '/get-online-features';
const JSON_TYPE = 'application/json; charset=utf-8';

/** A request listener that answers the requests it takes and returns false for the rest. */
export interface FastPath {
  (req: IncomingMessage, res: ServerResponse): boolean;
  /**
   * The same for a request parsed by `api/raw-http.ts` off a connection node:http does not
   * hold: false when it does not take it (the connection then goes to node:http with the
   * request), else `send` hears the answer — a status, headers, the payload and whether the
   * connection closes after it.
   */
  raw(request: RawRequest, send: RawSend): boolean;
}

/** A whole `POST /get-online-features` request (`api/raw-http.ts` checked method and URL). */
export interface RawRequest {
  contentType: string;
  authorization: string | undefined;
  apiKey: string | undefined;
  /** Bytes of the body (Content-Length). */
  length: number;
  body: string;
}

/** Writes one answer: `head` is its header lines (`name: value\r\n` each). */
export type RawSend = (
  status: number,
  head: string,
  payload: string | Buffer,
  close: boolean,
) => void;

export interface FastPathOptions {
  /**
   * Where a request's 5xx failure is logged, as fastify's error handler logs it (a request id
   * from fastify's sequence, method, URL, status); null without a JSON log.
   */
  log: (() => ErrorLog) | null;
  /** True once the server is closing: requests then go to fastify, which answers 503. */
  closing: () => boolean;
}

/**
 * @example
 * const fast = onlineFeaturesFastPath(ctx, { log: null, closing: () => false });
 * http.createServer((req, res) => fast(req, res) || fastifyHandler(req, res));
 */
export function onlineFeaturesFastPath(ctx: ServerContext, opts: FastPathOptions): FastPath {
  const onStoreRead = (ms: number): void => ctx.metrics.storeSeconds.observe(ms / 1000);

  /** The request metrics and dashboard window of an answer; its Server-Timing value. */
  const record = (start: number, status: number): string => {
    const ms = performance.now() - start;
    const { metrics } = ctx;
    metrics.requestSeconds.observe(
      { route: ROUTE, method: 'POST', status: String(status) },
      ms / 1000,
    );
    metrics.routes.observe('POST', ROUTE, status, ms);
    return `app;dur=${ms.toFixed(3)}`;
  };

  /** An answer through node:http. */
  const finish = (
    res: ServerResponse,
    start: number,
    status: number,
    headers: Record<string, string> | null,
    payload: string | Buffer,
  ): void => {
    const head: string[] = [];
    if (headers) for (const k in headers) head.push(k, headers[k]!);
    head.push(
      'content-type',
      JSON_TYPE,
      'server-timing',
      record(start, status),
      'content-length',
      String(Buffer.byteLength(payload)),
    );
    res.writeHead(status, head);
    res.end(payload);
  };

  /** An answer over a raw connection: the same header lines node:http writes for `finish`. */
  const finishRaw = (
    send: RawSend,
    start: number,
    status: number,
    headers: Record<string, string> | null,
    payload: string | Buffer,
  ): void => {
    const close = headers !== null && headers.connection === 'close';
    let head = '';
    if (headers) for (const k in headers) head += `${k}: ${headers[k]}\r\n`;
    const timing = record(start, status);
    head += `content-type: ${JSON_TYPE}\r\nserver-timing: ${timing}\r\ncontent-length: ${Buffer.byteLength(payload)}\r\n`;
    send(status, head, payload, close);
  };

  /** Where an answer goes: node:http's response, or a raw connection's writer. */
  type Sink = (
    status: number,
    headers: Record<string, string> | null,
    payload: string | Buffer,
  ) => void;

  const fail = (
    sink: Sink,
    contentType: string | undefined,
    error: unknown,
    body: unknown,
    close: boolean,
  ): void => {
    const r = errorResponse(
      error,
      { method: 'POST', url: ROUTE, route: ROUTE, contentType, body },
      ctx.metrics,
      opts.log && opts.log(),
    );
    // As fastify does after a body that does not parse: the client may send more of it.
    if (close) r.headers.connection = 'close';
    sink(r.status, r.headers, r.payload);
  };

  const answer = async (
    sink: Sink,
    contentType: string | undefined,
    text: string,
  ): Promise<void> => {
    let body: unknown;
    try {
      body = parseJsonBody(text);
    } catch (e) {
      fail(sink, contentType, e, undefined, true);
      return;
    }
    try {
      const snap = ctx.state.current;
      const request = parseOnlineRequest(body);
      const result = await serveOnlineFeatures(snap, ctx, request, onStoreRead);
      if (ctx.featureLog) logServed(ctx.featureLog, snap.repo, request, result);
      sink(200, null, feastJsonPayload(result));
    } catch (e) {
      fail(sink, contentType, e, body, false);
    }
  };

  /** True when API keys are off or the credential may read (else fastify answers the error). */
  const authorized = (authorization: string | undefined, apiKey: string | undefined): boolean => {
    if (!ctx.keys.enabled) return true;
    try {
      authorize(ctx.keys, ctx.limiter, credentialOf(authorization, apiKey), 'read');
      return true;
    } catch {
      return false; // fastify authorizes it again and answers the error
    }
  };

  const fast = ((req, res) => {
    if (req.url !== ROUTE || req.method !== 'POST' || opts.closing()) return false;
    const h = req.headers;
    const type = h['content-type'];
    if (type !== 'application/json' && type !== JSON_TYPE) return false;
    const length = h['content-length'];
    if (length === undefined || h['transfer-encoding'] !== undefined) return false;
    const n = Number(length);
    if (!(n > 0 && n <= BODY_LIMIT)) return false;
    const start = performance.now();
    if (!authorized(h.authorization, h['x-api-key'] as string | undefined)) return false;
    let first: Buffer | null = null;
    let rest: Buffer[] | null = null;
    req.on('data', (chunk: Buffer) => {
      if (first === null) first = chunk;
      else (rest ??= [first]).push(chunk);
    });
    req.on('end', () => {
      const text = rest ? Buffer.concat(rest).toString('utf8') : (first?.toString('utf8') ?? '');
      const sink: Sink = (status, headers, payload) => finish(res, start, status, headers, payload);
      answer(sink, type, text).catch((e: unknown) => res.destroy(e as Error));
    });
    req.on('error', () => res.destroy());
    return true;
  }) as FastPath;

  fast.raw = (r, send) => {
    if (opts.closing()) return false;
    if (!(r.length > 0 && r.length <= BODY_LIMIT)) return false;
    const start = performance.now();
    if (!authorized(r.authorization, r.apiKey)) return false;
    const sink: Sink = (status, headers, payload) =>
      finishRaw(send, start, status, headers, payload);
    answer(sink, r.contentType, r.body).catch(() => send(0, '', '', true));
    return true;
  };
  return fast;
}

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
 * answers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { serveOnlineFeatures } from '../../retrieval/index.ts';
import { authorize, credentialOf } from '../auth/authorize.ts';
import { BODY_LIMIT, errorResponse, type ErrorLog } from '../error-response.ts';
import { feastJsonString } from '../feature-server/feast-json.ts';
import { logServed } from '../feature-server/log-served.ts';
import { parseOnlineRequest } from '../feature-server/parse-online-request.ts';
import { parseJsonBody } from '../json-body.ts';
import type { ServerContext } from '../server-context.ts';

const ROUTE = '/get-online-features';
const JSON_TYPE = 'application/json; charset=utf-8';

/** A request listener that answers the requests it takes and returns false for the rest. */
export type FastPath = (req: IncomingMessage, res: ServerResponse) => boolean;

export interface FastPathOptions {
  /**
   * Where a request's 5xx failure is logged, as fastify's error handler logs it (a request id
   * from fastify's sequence, method, URL, status); null without a JSON log.
   */
  log: ((req: IncomingMessage) => ErrorLog) | null;
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

  const finish = (
    res: ServerResponse,
    start: number,
    status: number,
    headers: Record<string, string> | null,
    payload: string,
  ): void => {
    const ms = performance.now() - start;
    const head: string[] = [];
    if (headers) for (const k in headers) head.push(k, headers[k]!);
    head.push(
      'content-type',
      JSON_TYPE,
      'server-timing',
      `app;dur=${ms.toFixed(3)}`,
      'content-length',
      String(Buffer.byteLength(payload)),
    );
    res.writeHead(status, head);
    res.end(payload);
    const { metrics } = ctx;
    metrics.requestSeconds.observe(
      { route: ROUTE, method: 'POST', status: String(status) },
      ms / 1000,
    );
    metrics.routes.observe('POST', ROUTE, status, ms);
  };

  const fail = (
    req: IncomingMessage,
    res: ServerResponse,
    start: number,
    error: unknown,
    body: unknown,
    close: boolean,
  ): void => {
    const r = errorResponse(
      error,
      { method: 'POST', url: ROUTE, route: ROUTE, contentType: req.headers['content-type'], body },
      ctx.metrics,
      opts.log && opts.log(req),
    );
    // As fastify does after a body that does not parse: the client may send more of it.
    if (close) r.headers.connection = 'close';
    finish(res, start, r.status, r.headers, r.payload);
  };

  const answer = async (
    req: IncomingMessage,
    res: ServerResponse,
    start: number,
    text: string,
  ): Promise<void> => {
    let body: unknown;
    try {
      body = parseJsonBody(text);
    } catch (e) {
      fail(req, res, start, e, undefined, true);
      return;
    }
    try {
      const snap = ctx.state.current;
      const request = parseOnlineRequest(body);
      const result = await serveOnlineFeatures(snap, ctx, request, onStoreRead);
      if (ctx.featureLog) logServed(ctx.featureLog, snap.repo, request, result);
      finish(res, start, 200, null, feastJsonString(result));
    } catch (e) {
      fail(req, res, start, e, body, false);
    }
  };

  return (req, res) => {
    if (req.url !== ROUTE || req.method !== 'POST' || opts.closing()) return false;
    const h = req.headers;
    const type = h['content-type'];
    if (type !== 'application/json' && type !== JSON_TYPE) return false;
    const length = h['content-length'];
    if (length === undefined || h['transfer-encoding'] !== undefined) return false;
    const n = Number(length);
    if (!(n > 0 && n <= BODY_LIMIT)) return false;
    const start = performance.now();
    if (ctx.keys.enabled) {
      try {
        authorize(
          ctx.keys,
          ctx.limiter,
          credentialOf(h.authorization, h['x-api-key'] as string | undefined),
          'read',
        );
      } catch {
        return false; // fastify authorizes it again and answers the error
      }
    }
    let first: Buffer | null = null;
    let rest: Buffer[] | null = null;
    req.on('data', (chunk: Buffer) => {
      if (first === null) first = chunk;
      else (rest ??= [first]).push(chunk);
    });
    req.on('end', () => {
      const text = rest ? Buffer.concat(rest).toString('utf8') : (first?.toString('utf8') ?? '');
      answer(req, res, start, text).catch((e: unknown) => res.destroy(e as Error));
    });
    req.on('error', () => res.destroy());
    return true;
  };
}

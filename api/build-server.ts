/**
 * The HTTP server (fastify 5): Feast-compatible `POST /get-online-features` and `POST /push`,
 * ops routes, OpenAPI 3 at `/openapi.json` and a UI at `/docs`. Errors are JSON
 * (`{"error": {code, message, field?, hint?}}`; on Feast's two routes Feast's error detail, see
 * `feature-server/feast-error.ts`) with the status of the error registry; never a stack trace. Validation is done by the handlers (a hand-written shape check on the hot route,
 * zod elsewhere), so fastify's own validator is off.
 */
import http from 'node:http';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { authorize, credentialOf } from './auth/authorize.ts';
import type { Scope } from './auth/key-store.ts';
import { BODY_LIMIT, errorResponse, type ErrorLog } from './error-response.ts';
import { parseJsonBody } from './json-body.ts';
import { modelRoutes } from './routes/model-routes.ts';
import { onlineFeaturesFastPath, type FastPath } from './routes/online-features-fast-path.ts';
import { answerRawConnections } from './raw-http.ts';
import { onlineFeaturesRoute } from './routes/online-features-route.ts';
import { opsRoutes } from './routes/ops-routes.ts';
import { pushRoute } from './routes/push-route.ts';
import { withRequestExamples } from './schemas/request-examples.ts';
import { uiRoutes } from './routes/ui-routes.ts';
import type { ServerContext } from './server-context.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The API-key scope a route needs; none = open. */
    scope?: Scope;
  }
}

export { BODY_LIMIT };

/**
 * Builds (but does not listen) the HTTP server; test it with `app.inject`.
 *
 * @example
 * const app = await buildServer(ctx);
 * const res = await app.inject({ method: 'POST', url: '/get-online-features', payload: {...} });
 */
export async function buildServer(
  ctx: ServerContext,
  opts: {
    logger?: boolean;
    logLevel?: string;
    /** Where the JSON log goes with `logLevel` (default stdout; tests read it). */
    logStream?: { write(line: string): void };
  } = {},
): Promise<FastifyInstance> {
  // One line per request at debug and trace only (fastify's request logging).
  const requestLogging = opts.logLevel
    ? opts.logLevel === 'debug' || opts.logLevel === 'trace'
    : opts.logger === true;
  // `POST /get-online-features` is answered ahead of fastify (routes/online-features-fast-path.ts)
  // on the server `listen` opens; `app.inject` always takes fastify's path.
  let fast: FastPath | null = null;
  let closing = false;
  // Request ids as fastify's default makes them (`req-<base36>`), one sequence for fastify's
  // requests and the fast path's logged failures.
  let lastReqId = 0;
  const genReqId = (): string => `req-${(++lastReqId).toString(36)}`;
  const app = Fastify({
    // logLevel: JSON logs at that level, one line per request only at debug and trace.
    logger: opts.logLevel
      ? { level: opts.logLevel, ...(opts.logStream ? { stream: opts.logStream } : {}) }
      : (opts.logger ?? false),
    genReqId,
    // (through a LogController: fastify 5 deprecates the top-level disableRequestLogging)
    logController: new LogController({
      disableRequestLogging:
        opts.logLevel !== undefined && opts.logLevel !== 'debug' && opts.logLevel !== 'trace',
    }),
    bodyLimit: BODY_LIMIT,
    return503OnClosing: true,
    // fastify's own HTTP/1 server, with the fast path in front of its request handler.
    serverFactory: (handler, fastifyOptions) => {
      // (fastify's validated options: its defaults filled in)
      const options = fastifyOptions as {
        keepAliveTimeout?: number;
        requestTimeout?: number;
        connectionTimeout?: number;
        maxRequestsPerSocket?: number | null;
      };
      const server = http.createServer((req, res) => {
        if (fast === null || !fast(req, res)) handler(req, res);
      });
      server.keepAliveTimeout = options.keepAliveTimeout ?? 72_000;
      server.requestTimeout = options.requestTimeout ?? 0;
      server.setTimeout(options.connectionTimeout ?? 0);
      if (options.maxRequestsPerSocket) server.maxRequestsPerSocket = options.maxRequestsPerSocket;
      // Connections carrying only fast-path requests skip node:http altogether (raw-http.ts).
      else answerRawConnections(server, () => fast);
      return server;
    },
  });
  const logging = opts.logger === true || opts.logLevel !== undefined;
  /** A 5xx failure's log line, the same on both paths (`logger` carries the request id). */
  const errorLog =
    (logger: FastifyBaseLogger, method: string, url: string): ErrorLog =>
    (err, code, message, status) =>
      logger.error({ err, code, method, url, status }, message);
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.setValidatorCompiler(() => (data) => ({ value: data }));
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (e) {
      done(e as Error, undefined);
    }
  });
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));

  await app.register(swagger, {
    transformObject: (doc) => withRequestExamples('openapiObject' in doc ? doc.openapiObject : {}),
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Larder feature server',
        version: '0.1.0',
        description: 'Feast-compatible online feature serving',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
        },
      },
      security: [{ bearer: [] }, { apiKey: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  // The hooks run on every request: synchronous callback hooks, not async ones (no promise and
  // microtask each). A throw (authorize) goes to the error handler as a rejection would.
  app.addHook('onRequest', (request, _reply, done) => {
    const scope = request.routeOptions.config.scope;
    if (scope) {
      const h = request.headers;
      authorize(
        ctx.keys,
        ctx.limiter,
        credentialOf(h.authorization, h['x-api-key'] as string | undefined),
        scope,
      );
    }
    done();
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    reply.header('server-timing', `app;dur=${reply.elapsedTime.toFixed(3)}`);
    done(null, payload);
  });
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unknown';
    ctx.metrics.requestSeconds.observe(
      { route, method: request.method, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    // The dashboard does not chart its own polling.
    if (!route.startsWith('/ui'))
      ctx.metrics.routes.observe(request.method, route, reply.statusCode, reply.elapsedTime);
    done();
  });

  app.setErrorHandler((error, request, reply) => {
    const r = errorResponse(
      error,
      {
        method: request.method,
        url: request.url,
        route: request.routeOptions.url ?? '',
        contentType: request.headers['content-type'],
        body: request.body,
      },
      ctx.metrics,
      logging ? errorLog(request.log, request.method, request.url) : null,
    );
    return reply.status(r.status).headers(r.headers).type('application/json').send(r.payload);
  });
  app.setNotFoundHandler((request, reply) => {
    ctx.metrics.errors.inc({ code: 'LARDER_NOT_FOUND' });
    const body = {
      error: {
        code: 'LARDER_NOT_FOUND',
        message: `no route ${request.method} ${request.url}`,
        hint: 'see /docs for the API',
      },
    };
    return reply.status(404).type('application/json').send(JSON.stringify(body));
  });

  onlineFeaturesRoute(app, ctx);
  if (!requestLogging)
    fast = onlineFeaturesFastPath(ctx, {
      log: logging
        ? () => errorLog(app.log.child({ reqId: genReqId() }), 'POST', '/get-online-features')
        : null,
      closing: () => closing,
    });
  pushRoute(app, ctx);
  modelRoutes(app, ctx);
  opsRoutes(app, ctx);
  uiRoutes(app, ctx);
  return app;
}

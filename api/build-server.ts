/**
 * The HTTP server (fastify 5): Feast-compatible `POST /get-online-features` and `POST /push`,
 * ops routes, OpenAPI 3 at `/openapi.json` and a UI at `/docs`. Errors are JSON
 * (`{"error": {code, message, field?, hint?}}`; on Feast's two routes Feast's error detail, see
 * `feature-server/feast-error.ts`) with the status of the error registry; never a stack trace. Validation is done by the handlers (a hand-written shape check on the hot route,
 * zod elsewhere), so fastify's own validator is off.
 */
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { LarderError } from '../core/errors.ts';
import { authorize, credentialOf } from './auth/authorize.ts';
import type { Scope } from './auth/key-store.ts';
import { errorReply } from './error-body.ts';
import { FEAST_ROUTES, feastErrorBody } from './feature-server/feast-error.ts';
import { parseJsonBody } from './json-body.ts';
import { modelRoutes } from './routes/model-routes.ts';
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

/** The largest request body accepted (every route): 8 MiB; larger is a 413. */
export const BODY_LIMIT = 8 * 1024 * 1024;

/**
 * Builds (but does not listen) the HTTP server; test it with `app.inject`.
 *
 * @example
 * const app = await buildServer(ctx);
 * const res = await app.inject({ method: 'POST', url: '/get-online-features', payload: {...} });
 */
export async function buildServer(
  ctx: ServerContext,
  opts: { logger?: boolean; logLevel?: string } = {},
): Promise<FastifyInstance> {
  const app = Fastify({
    // logLevel: JSON logs at that level, one line per request only at debug and trace.
    logger: opts.logLevel ? { level: opts.logLevel } : (opts.logger ?? false),
    // (through a LogController: fastify 5 deprecates the top-level disableRequestLogging)
    logController: new LogController({
      disableRequestLogging:
        opts.logLevel !== undefined && opts.logLevel !== 'debug' && opts.logLevel !== 'trace',
    }),
    bodyLimit: BODY_LIMIT,
    return503OnClosing: true,
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
    let e: unknown = error;
    const fst = error as { code?: string; statusCode?: number; message?: string };
    if (
      !(error instanceof LarderError) &&
      typeof fst.statusCode === 'number' &&
      fst.statusCode < 500
    ) {
      e =
        fst.statusCode === 413
          ? new LarderError('LARDER_PAYLOAD_TOO_LARGE', 'the request body is too large', {
              field: '(body)',
              hint: `bodies are limited to ${BODY_LIMIT / 1024 / 1024} MiB; split the request`,
            })
          : fst.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
            ? new LarderError(
                'LARDER_UNSUPPORTED_MEDIA_TYPE',
                `unsupported Content-Type "${String(request.headers['content-type'])}"`,
                { field: 'content-type', hint: 'send Content-Type: application/json' },
              )
            : new LarderError('LARDER_BAD_REQUEST', fst.message ?? 'bad request', {
                field: '(body)',
                hint: 'send a valid JSON body',
                detail: { reason: 'malformed_body' },
              });
    }
    const r = errorReply(e);
    // Server-side failures (a bug, a failing on-demand transform, a store that is down) are
    // always logged with their cause: through the JSON log when logging is on, else as one
    // stderr line naming the request, the code and the cause.
    if (r.status >= 500) {
      if (opts.logger || opts.logLevel)
        request.log.error({ err: error, code: r.code }, r.body.error.message);
      else
        process.stderr.write(
          `larder serve: ${request.method} ${request.url} → ${r.status} ${r.code}: ${String((error as Error).message).replace(/\s*\n\s*/g, ' ')}\n`,
        );
    }
    ctx.metrics.errors.inc({ code: r.code });
    if (r.retryAfter !== undefined) reply.header('retry-after', String(r.retryAfter));
    // Feast's routes answer Feast's error body (its SDK raises the typed exception); the code
    // is in a header there too.
    const route = request.routeOptions.url ?? '';
    if (FEAST_ROUTES.has(route))
      return reply
        .status(r.status)
        .header('larder-error-code', r.code)
        .type('application/json')
        .send(feastErrorBody(r, route, request.body));
    return reply.status(r.status).type('application/json').send(JSON.stringify(r.body));
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
  pushRoute(app, ctx);
  modelRoutes(app, ctx);
  opsRoutes(app, ctx);
  uiRoutes(app, ctx);
  return app;
}

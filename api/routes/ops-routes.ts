import type { FastifyInstance } from 'fastify';
import { storeFailure } from '../../core/errors.ts';
import { readRegistry } from '../../registry/registry-file.ts';
import { ErrorResponse, HealthResponse, jsonSchema } from '../schemas/api-schemas.ts';
import type { ServerContext } from '../server-context.ts';

/** `/health` (liveness), `/ready` (registry loaded, store reachable), `/metrics`, `/registry`. */
export function opsRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get(
    '/health',
    { schema: { summary: 'Liveness', response: { 200: jsonSchema(HealthResponse) } } },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/ready',
    {
      schema: {
        summary: 'Readiness: registry loaded and online store reachable',
        response: { 503: jsonSchema(ErrorResponse) },
      },
    },
    async () => {
      const snap = ctx.state.current;
      try {
        await snap.store.ping();
      } catch (e) {
        throw storeFailure(e, 'online store unreachable');
      }
      return {
        status: 'ready',
        registryVersion: snap.version,
        loadedAt: new Date(snap.loadedAt).toISOString(),
      };
    },
  );

  app.get('/metrics', { schema: { summary: 'Prometheus metrics' } }, async (_req, reply) => {
    reply.type(ctx.metrics.registry.contentType);
    return ctx.metricsText ? ctx.metricsText() : ctx.metrics.registry.metrics();
  });

  app.get(
    '/registry',
    { config: { scope: 'read' }, schema: { summary: 'Applied definitions (registry.json)' } },
    async (_req, reply) => {
      const file = readRegistry(ctx.home);
      const body = file ?? {
        format: 1,
        version: 0,
        objects: Object.fromEntries(
          ctx.state.current.repo.specs().map((s) => [`${s.kind}:${s.name}`, { spec: s }]),
        ),
      };
      return reply.type('application/json').send(JSON.stringify(body));
    },
  );
}

import type { FastifyInstance } from 'fastify';
import { serveOnlineFeatures } from '../../retrieval/index.ts';
import { logServed } from '../feature-server/log-served.ts';
import { feastJsonString } from '../feature-server/feast-json.ts';
import { parseOnlineRequest } from '../feature-server/parse-online-request.ts';
import {
  FeastErrorResponse,
  GetOnlineFeaturesBody,
  GetOnlineFeaturesResponse,
  jsonSchema,
} from '../schemas/api-schemas.ts';
import type { ServerContext } from '../server-context.ts';

/** `POST /get-online-features`: Feast's feature server endpoint, wire-compatible. */
export function onlineFeaturesRoute(app: FastifyInstance, ctx: ServerContext): void {
  const onStoreRead = (ms: number): void => ctx.metrics.storeSeconds.observe(ms / 1000);
  app.post(
    '/get-online-features',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'Read online features (Feast-compatible)',
        body: jsonSchema(GetOnlineFeaturesBody),
        response: {
          200: jsonSchema(GetOnlineFeaturesResponse),
          '4xx': jsonSchema(FeastErrorResponse),
          '5xx': jsonSchema(FeastErrorResponse),
        },
      },
    },
    async (request, reply) => {
      const snap = ctx.state.current;
      const req = parseOnlineRequest(request.body);
      const res = await serveOnlineFeatures(snap, ctx, req, onStoreRead);
      if (ctx.featureLog) logServed(ctx.featureLog, snap.repo, req, res);
      // Serialized once, directly (the response schema documents the shape; no serializer runs).
      return reply.type('application/json').send(feastJsonString(res));
    },
  );
}
